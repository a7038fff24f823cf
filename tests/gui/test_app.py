"""The `denoise-gui` entry point in a real process: it opens, trains, closes mid-run and exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("nnkit.denoise.trainer")

SCRIPT = textwrap.dedent(
    """
    import gc
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from denoise_gui.app import main, make_app
    from nnkit.denoise.config import RunConfig

    app = make_app(sys.argv)

    def poke():
        window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "denoiseMainWindow")
        tiny = RunConfig(arch="report", width=4, epochs=50, epoch_size=32, crop_size=16, batch_size=8, device="cpu")
        window.train_view.form.set_config(tiny)
        assert window.train_view.start()
        print("started; automatic gc", gc.isenabled(), "frozen", gc.get_freeze_count() > 0, flush=True)

        def close_when_stepping():
            if window.train_view.runs[1].steps:
                print("closing", flush=True)
                window.close()
            else:
                QTimer.singleShot(50, close_when_stepping)

        close_when_stepping()

    QTimer.singleShot(0, poke)
    sys.exit(main(sys.argv))
    """
)


@pytest.mark.slow
def test_app_closes_mid_run_and_the_process_exits(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # garbage collected on the GUI thread only, the start-up objects frozen out of it
    assert "started; automatic gc False frozen True" in proc.stdout and "closing" in proc.stdout
    assert time.monotonic() - began < 100
    assert (tmp_path / "config" / "nnkit" / "denoise-gui.conf").exists()  # settings written on close
    runs = list((tmp_path / "data").rglob("run-0001/checkpoint.safetensors"))
    assert len(runs) == 1 and not list((tmp_path / "data").rglob("*.tmp"))


def test_command_line_options() -> None:
    from denoise_gui.app import parse_args

    args = parse_args(["a.png", "folder", "--checkpoint", "c.safetensors"])
    assert args.photos == ["a.png", "folder"] and args.checkpoint == "c.safetensors"
    assert parse_args([]).photos == []
