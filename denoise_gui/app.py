"""The `denoise-gui` command: open the app, ready to use (photos given on the command line are denoised)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from denoise_gui.main_window import USE_DEFAULT, MainWindow
from denoise_gui.qt_platform import platform_problem
from denoise_gui.settings import APPLICATION, ORGANISATION
from denoise_gui.threads.gc_on_gui_thread import collect_on_gui_thread, freeze_startup

SWITCH_INTERVAL_S = 0.001


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named so QSettings/AppData find their place."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv) if argv is not None else sys.argv)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    # Antialiased lines cost the GUI thread ~8x the paint time of long loss curves (27 ms against 3 ms a
    # frame for four runs of 3000 steps on the 2-core VM): off, except on the few-point PSNR curves.
    pg.setConfigOptions(antialias=False)
    # The GUI thread shares the GIL with the worker: hand it over every 1 ms instead of 5 ms, so
    # painting (many short Python <-> Qt crossings) never queues behind long stretches of training.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    return app


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Our options; Qt's own (-platform, -style, ...) are left to Qt."""
    parser = argparse.ArgumentParser(
        prog="denoise-gui",
        description="Tune and train Noise2Noise denoisers on nnkit, watch them learn, and denoise photos.",
    )
    parser.add_argument("photos", nargs="*", help="photos or folders to denoise right away")
    parser.add_argument("--checkpoint", help="checkpoint to denoise with (default: the last one, else the shipped one)")
    args, _qt_args = parser.parse_known_args(list(argv))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    full = list(sys.argv if argv is None else argv)
    if {"-h", "--help"} & set(full[1:]):
        parse_args(full[1:])  # prints the help and exits, no window needed
    if QApplication.instance() is None:
        problem = platform_problem(full[1:])  # Qt's own message names the wrong library, then aborts
        if problem is not None:
            print(problem, file=sys.stderr)
            return 1
    app = make_app(full)
    args = parse_args(app.arguments()[1:])  # Qt has taken out its own options
    # Cyclic garbage holding Qt objects, collected on a worker thread, can freeze the app (issue 19)
    with collect_on_gui_thread():
        window = MainWindow(checkpoint=args.checkpoint or USE_DEFAULT)
        window.show()
        freeze_startup()  # full collections (on the GUI thread) then skip torch's and Qt's long-lived objects
        if args.photos:
            window.open_paths(args.photos)
        status = int(app.exec())
        # closeEvent asked the workers to stop and waited a few seconds; never exit under a running thread
        window.train_view.shutdown(60_000)
        window.denoise_view.shutdown(60_000)
        del window  # its cycles go in the last collection, here on the GUI thread
    return status


if __name__ == "__main__":
    sys.exit(main())
