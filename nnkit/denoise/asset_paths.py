"""Where the shipped assets are: the checkout's top-level assets/, or the installed copy.

In a checkout (editable install, or tests run from the source tree) the assets are the
top-level ``assets/`` folder beside ``nnkit/``; a wheel carries the same folder as
``nnkit/denoise/assets`` (see setup.py). The checkout wins, so that work on the photos or
the checkpoint is seen at once without reinstalling.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT_ASSETS = _PACKAGE.parents[1] / "assets"
_INSTALLED_ASSETS = _PACKAGE / "assets"


def assets_dir() -> Path:
    """The folder holding photos/, checkpoints/ and LICENSES.md."""
    if (_CHECKOUT_ASSETS / "LICENSES.md").is_file():
        return _CHECKOUT_ASSETS
    return _INSTALLED_ASSETS


ASSETS_DIR = assets_dir()
PHOTOS_DIR = ASSETS_DIR / "photos"
CHECKPOINTS_DIR = ASSETS_DIR / "checkpoints"
SHIPPED_CHECKPOINT = CHECKPOINTS_DIR / "shipped.safetensors"
