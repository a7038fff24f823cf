"""The README's Python examples run as written (so the front door stays true)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nnkit.denoise.imageio import write_image

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(python_blocks()) >= 3


def test_readme_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    noisy = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    write_image(tmp_path / "noisy.jpg", noisy)
    for _ in range(2):  # a reader runs them again (the output files exist by then): they still work
        namespace: dict[str, object] = {}
        for block in python_blocks():  # later blocks continue from earlier ones, as a reader would
            exec(compile(block, str(README), "exec"), namespace)
    assert (tmp_path / "clean.png").is_file()
