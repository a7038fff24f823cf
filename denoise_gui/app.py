"""The `denoise-gui` command: open the app, ready to use (photos given on the command line are denoised)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from denoise_gui.main_window import MainWindow
from denoise_gui.settings import APPLICATION, ORGANISATION

SWITCH_INTERVAL_S = 0.001


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named so QSettings/AppData find their place."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv) if argv is not None else sys.argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    pg.setConfigOptions(antialias=True)
    # The GUI thread shares the GIL with the worker: hand it over every 1 ms instead of 5 ms, so
    # painting (many short Python <-> Qt crossings) never queues behind long stretches of training.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    args = list(sys.argv if argv is None else argv)
    app = make_app(args)
    window = MainWindow()
    window.show()
    files = [a for a in args[1:] if not a.startswith("-")]
    if files:
        window.open_paths(files)
    status = int(app.exec())
    # closeEvent asked the workers to stop and waited a few seconds; never exit under a running thread
    window.train_view.shutdown(60_000)
    window.denoise_view.shutdown(60_000)
    return status


if __name__ == "__main__":
    sys.exit(main())
