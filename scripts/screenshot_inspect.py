"""The Inspect view's screenshots, from real runs on the offscreen platform (called by screenshot.py).

* docs/screenshot-inspect.png: a healthy run (report network, Adam 1e-3) with lockstep on, a
  Conv2d's unfold/matmul/fold shapes, and the gradient-check table;
* docs/screenshot-inspect-exploding.png: SGD at a learning rate of 8 on the U-Net: the gradient
  norms climb by orders of magnitude in a few steps until the loss becomes NaN;
* docs/screenshot-inspect-dead.png: Adam at 0.1 on the report network: the output sigmoid saturates
  (all its outputs exactly 0 from step 8) and the gradient of every layer below it is exactly zero
  from then on. (At 0.05 the ReLUs now stop at 90-95% zeros, no longer a clear dead layer.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from denoise_gui.main_window import INSPECT, MainWindow
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig

BASE = RunConfig(arch="report", width=16, crop_size=32, batch_size=16, device="cpu", seed=0)
SHOTS = (
    ("screenshot-inspect.png", BASE.replace(epochs=3, epoch_size=640, inspect_every=4, lockstep=True), "inner.2"),
    (
        "screenshot-inspect-exploding.png",
        BASE.replace(arch="unet", width=8, optimizer="sgd", lr=8.0, momentum=0.9, epochs=1, epoch_size=320,
                     inspect_every=1),
        "inner.inner.0",
    ),
    ("screenshot-inspect-dead.png", BASE.replace(lr=0.1, epochs=2, epoch_size=320, inspect_every=2), "inner.7"),
)


def _wait(signal: object, timeout_s: float) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def _settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def inspect_screenshots(out: Path) -> None:
    """Train each SHOTS run in a fresh window, pick its layer, grab the Inspect view (needs a QApplication)."""
    for name, config, layer in SHOTS:
        with tempfile.TemporaryDirectory() as tmp:
            settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
            window = MainWindow(settings, runs_dir=Path(tmp) / "runs", checkpoint=None)
            window.resize(1280, 720)
            window.show()
            window.tabs.setCurrentIndex(INSPECT)
            window.train_view.form.set_config(config)
            window.train_view.start()
            _wait(window.train_view.sigRunFinished, 900)
            view = window.inspect_view
            index = view.layer_combo.findData(layer)
            view.layer_combo.setCurrentIndex(max(index, 0))
            if name == "screenshot-inspect.png":
                view.run_gradcheck()
                _wait(view.sigGradcheckDone, 300)
            _settle()
            window.grab().save(str(out / name))
            run = window.train_view.runs[max(window.train_view.runs)]
            print(f"wrote {out / name}: {run.status}, {len(run.steps)} steps, {len(view.steps)} inspected", flush=True)
            window.close()
