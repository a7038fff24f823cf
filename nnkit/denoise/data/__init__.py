"""Training pairs and a fixed validation set, from four sources (one file each).

- ``builtin``: random ``crop_size`` crops of the photo corpus' training split (assets/photos,
  licences in assets/LICENSES.md, split in assets/photos/splits.json), fresh noise every epoch;
  validation: 32 fixed 96×96 crops of the validation photos with fixed noise. The test photos
  are never loaded by a data source.
- ``folder``: the same synthetic pairs from the user's images in ``data_path`` (not
  recursive). About 15% of the images (at least one) are held out for validation, chosen
  by a fixed seed; a folder with a single image gives its bottom fifth to validation.
- ``course``: ``train_data.pkl`` (noisy input, noisy target) and ``val_data.pkl`` (noisy,
  clean), uint8 N×3×H×W tensors, loaded with ``torch.load(weights_only=True)`` only.
- ``deadleaves``: synthetic dead-leaves images (``deadleaves.py``) made on the fly; validation:
  32 fixed seeded 96×96 images. ``dead_leaves_mix`` mixes them into ``builtin`` or ``folder``
  training crops (each crop is a dead-leaves image with that probability; validation unchanged).

With ``target="self"`` (blind-spot training, ``noisy_photos.py`` and ``blindspot.py``) the
builtin and folder sources give masked crops of noisy images instead of pairs.

Synthetic pairs: the clean crop is augmented (when ``augment``: orientation, channel order,
brightness, contrast and colour) before noise is added; the
input is clipped to [0, 1] like a real photo; a noisy target is an independent draw left
unclipped (clipping would bias it); a clean target is the clean crop. Every epoch's batches
depend only on (seed, epoch). The validation noise uses a fixed seed that does not depend on
the run's seed, so runs with different seeds are scored on the same images. Batches per
epoch: ``train_size // batch_size`` (the incomplete last batch is dropped, so every step has
the same shape).
"""

from __future__ import annotations

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.augment import CHANNEL_ORDERS, DRAWS, _colour, _geometry, _orient
from nnkit.denoise.data.base import DataError, PairData
from nnkit.denoise.data.course_files import CoursePairs, load_course
from nnkit.denoise.data.deadleaves import dead_leaves
from nnkit.denoise.data.deadleaves_source import DeadLeavesPairs, load_deadleaves
from nnkit.denoise.data.folder import load_folder
from nnkit.denoise.data.noisy_photos import BlindSpotData, load_blindspot
from nnkit.denoise.data.photos import (
    PHOTOS_DIR,
    TEST_PHOTOS,
    TRAIN_PHOTOS,
    VAL_PHOTOS,
    builtin_photos,
    corpus_photos,
    corpus_splits,
    load_builtin,
)
from nnkit.denoise.data.prefetch import prefetch
from nnkit.denoise.data.synthetic import VAL_CROP, VAL_CROPS, SyntheticPairs

__all__ = [
    "CHANNEL_ORDERS",
    "DRAWS",
    "LOADERS",
    "PHOTOS_DIR",
    "TEST_PHOTOS",
    "TRAIN_PHOTOS",
    "VAL_CROP",
    "VAL_CROPS",
    "VAL_PHOTOS",
    "BlindSpotData",
    "CoursePairs",
    "DataError",
    "DeadLeavesPairs",
    "PairData",
    "SyntheticPairs",
    "_colour",
    "_geometry",
    "_orient",
    "builtin_photos",
    "corpus_photos",
    "corpus_splits",
    "dead_leaves",
    "load_data",
    "noisy_psnr",
    "prefetch",
]

# the data sources by name: the names are config.DATA_SOURCES (tests/denoise/test_config.py ties the two)
LOADERS = {"builtin": load_builtin, "folder": load_folder, "course": load_course, "deadleaves": load_deadleaves}


def load_data(config: RunConfig) -> PairData:
    """The training pairs and validation set that ``config`` asks for; DataError if unusable."""
    loader = LOADERS.get(config.data)
    if loader is None:
        raise DataError(f"data source {config.data!r} is not one of {', '.join(LOADERS)}")
    data = load_blindspot(config) if config.target == "self" else loader(config)
    data._check_batch_size(config.batch_size)
    return data


def noisy_psnr(data: PairData) -> float:
    """PSNR of the noisy validation inputs against the clean images (what a denoiser must beat)."""
    return data.noisy_psnr()
