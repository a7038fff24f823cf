"""Help: About (versions, device, where runs are kept) and a short page on how to read the window (all three views)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from denoise_gui.inspect.reading import guide_html
from denoise_gui.train.run_form import LABELS

GUIDE = """
<h3>How to read this window</h3>
<p><b>Train view.</b> The form on the left is one run's settings; a greyed field does not apply
(hover it to see why). <b>Start</b> (Ctrl+R) trains on a worker; the bar shows epoch, step,
images per second and the time left.</p>
<ul>
<li><b>Training loss</b>: faint line = each step, bold = its running average (the <i>Smoothing</i>
slider). Lower is better. Switch the x-axis to <i>images seen</i> to compare runs with different
batch sizes, or to <i>wall time</i> to compare speed. A red ▼ marks where a run diverged: its
values are drawn clipped to the top so the other runs keep their scale.</li>
<li><b>Validation PSNR</b>: one dot per epoch on the held-out photos, in dB; higher is better.
The dashed line is the noisy input itself: a run must climb above it to help at all. +1 dB is
a visible improvement.</li>
<li>Scroll to zoom a plot, drag to pan; <b>Auto-range</b> or a double-click shows everything
again. Hover a curve to read its run, step and value.</li>
<li><b>Run table</b>: every run ever trained here (kept in the runs library). Untick <i>Show</i>
to hide a run's curves; right-click a run to denoise with it, train from its checkpoint, copy
its settings to the form, export its metrics, reveal its folder or delete it.</li>
<li><b>Before / after</b>: fixed validation crops, noisy | denoised | clean, refreshed every
epoch; click one to enlarge it.</li>
</ul>
<p><b>Denoise view.</b> Drop photos anywhere (or Ctrl+O). <i>Split</i> puts the original left
of a line you drag and the result right of it; <i>Difference</i> shows what was removed
(mid-grey = unchanged; structure there means detail was lost). Zoom with the wheel, + / −, 0 (fit)
and 1 (actual pixels). <i>Clean reference…</i> gives PSNR and SSIM (1.0 = identical) when you
have a clean version of the photo. Each result names the model that made it; after loading
another checkpoint, denoise again and switch between results with the <i>Result</i> box.
A model of Gaussian noise also gets the <i>mean correction</i>: the result keeps the noisy
photo's local means (what clipping at black and white does to them included), so shadows and
highlights keep their colour.</p>
<p>The window title and the status bar always name the checkpoint that denoises; the shipped one
is used until you pick another (File → Load checkpoint).</p>
""" + guide_html(LABELS["inspect_every"], LABELS["lockstep"])


def versions() -> dict[str, str]:
    """The versions that matter for a bug report."""
    import numpy
    import pyqtgraph
    import PySide6
    import torch
    from PySide6.QtCore import qVersion

    import nnkit

    try:
        from importlib.metadata import version

        app_version = version("denoise-gui")
    except Exception:  # not installed as a distribution (a bare checkout)
        app_version = "checkout"
    return {
        "denoise-gui": app_version,
        "nnkit": getattr(nnkit, "__version__", "?"),
        "torch": torch.__version__,
        "PySide6 / Qt": f"{PySide6.__version__} / {qVersion()}",
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": numpy.__version__,
        "Python": f"{sys.version.split()[0]} ({platform.system()} {platform.machine()})",
    }


def about_html(device: str, runs_dir: Path, checkpoint: str) -> str:
    """The About text: what the app is, versions, the compute device and where things are kept."""
    rows = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in versions().items())
    return (
        "<h3>denoise-gui</h3><p>Noise2Noise denoisers on nnkit, a neural-network library whose forward "
        "and backward passes are written by hand.</p>"
        f"<table cellspacing='4'>{rows}"
        f"<tr><td>Device</td><td>{device}</td></tr>"
        f"<tr><td>Runs library</td><td>{runs_dir}</td></tr>"
        f"<tr><td>Checkpoint</td><td>{checkpoint or 'none'}</td></tr></table>"
    )


class HelpDialog(QDialog):
    """A read-only rich-text page with a Close button."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(620, 520)

    def text(self) -> str:
        """The page as plain text (for tests)."""
        return str(self.browser.toPlainText())
