"""Make docs/screenshot.png (Train view after two short real runs) and docs/screenshot-denoise.png
(a noisy photo denoised in the Denoise view), then the Inspect view's docs/screenshot-inspect*.png
(scripts/screenshot_inspect.py), on the offscreen platform.

    python scripts/screenshot.py [--epochs 4] [--out docs] [--only inspect|denoise]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from screenshot_inspect import inspect_screenshots  # beside this script

from denoise_gui.app import make_app
from denoise_gui.main_window import DENOISE, TRAIN, MainWindow, shipped_checkpoint
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig


def wait_for(signal: object, timeout_s: float) -> None:
    """Run the event loop until ``signal`` fires (or the timeout)."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def settle(ms: int = 300) -> None:
    """Let layouts and repaints happen."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def noisy_photo(folder: Path, sigma: float = 25.0) -> tuple[Path, Path]:
    """A built-in validation photo with Gaussian noise, and the clean photo, saved as PNGs."""
    from nnkit.denoise.data import builtin_photos
    from nnkit.denoise.imageio import write_image

    name, clean = builtin_photos("val")[0]
    rng = np.random.default_rng(0)
    noisy = np.clip(clean.astype(np.float64) + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
    stem = Path(name).stem
    return write_image(folder / f"{stem}_noisy.png", noisy), write_image(folder / f"{stem}_clean.png", clean)


def denoise_screenshot(window: MainWindow, tmp: Path, out: Path) -> None:
    """A noisy validation photo denoised in the Denoise view, split against the original, zoomed in."""
    if window.checkpoint is None:
        window.use_run_for_denoising()
    photo, clean = noisy_photo(tmp)
    window.tabs.setCurrentIndex(DENOISE)
    window.open_paths([str(photo)])
    wait_for(window.denoise_view.sigBatchFinished, 600)
    view = window.denoise_view
    if view.set_reference(str(photo), str(clean)):  # PSNR and SSIM against the clean photo
        wait_for(view.sigMeasured, 120)
    compare = view.compare
    compare.set_mode("split")  # one image, the original left of the line and the result right of it
    image = window.denoise_view.items[str(photo)].original
    if image is not None:  # zoom in on the middle so the noise and its removal are visible
        settle()
        compare.actual_size()
        compare.zoom_by(1.6)
    settle()
    window.grab().save(str(out / "screenshot-denoise.png"))
    print(f"wrote {out / 'screenshot-denoise.png'}")


def main(argv: list[str] | None = None) -> int:
    """Train, grab, denoise, grab."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--epoch-size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument(
        "--only", choices=("all", "inspect", "denoise"), default="all",
        help="'inspect': the Inspect view's only; 'denoise': the Denoise view's only (the shipped checkpoint)",
    )
    args = parser.parse_args(argv)
    app = make_app(sys.argv[:1])  # kept alive until the end
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only == "inspect":
        inspect_screenshots(args.out)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        shipped = shipped_checkpoint()
        window = MainWindow(settings, runs_dir=Path(tmp) / "runs",
                            checkpoint=shipped if shipped is not None and shipped.is_file() else None)
        window.resize(1280, 720)
        window.show()
        if args.only == "denoise":
            denoise_screenshot(window, Path(tmp), args.out)
            window.close()
            return 0
        window.tabs.setCurrentIndex(TRAIN)
        base = RunConfig(arch="unet", width=16, epochs=args.epochs, epoch_size=args.epoch_size, crop_size=32,
                         batch_size=16, device="cpu")
        for config in (base, base.replace(lr=3e-3)):
            window.train_view.form.set_config(config)
            window.train_view.start()
            wait_for(window.train_view.sigRunFinished, 900)
            run = window.train_view.runs[max(window.train_view.runs)]
            print(f"run {run.run_id}: {run.status}, best {run.best_psnr:.2f} dB, {len(run.steps)} steps", flush=True)
        window.train_view.table.clearSelection()
        window.train_view.form.set_config(base.replace(lr=3e-3))
        settle()
        window.grab().save(str(args.out / "screenshot.png"))
        print(f"wrote {args.out / 'screenshot.png'}")

        denoise_screenshot(window, Path(tmp), args.out)
        window.close()
    inspect_screenshots(args.out)
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
