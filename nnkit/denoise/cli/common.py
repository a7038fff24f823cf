"""What the console scripts share: exit codes, argument parsing that returns a status, plain warnings."""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import TextIO

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _run_parser(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """Parse, turning argparse's SystemExit (errors, --help) into a returned status."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_USAGE)


@contextlib.contextmanager
def plain_warnings(prog: str) -> Iterator[None]:
    """Warnings printed as ``prog: warning: message`` (not Python's ``file.py:87: UserWarning:`` and source line)."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        print(f"{prog}: warning: {message}", file=file if file is not None else sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield
