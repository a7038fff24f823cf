"""Tiled inference: denoise images of any size in bounded memory (the public API; one concept a module below).

Photos of any size go through the model in overlapping tiles blended without seams, in the memory
of one batch (``nnkit.denoise.tiling`` says how).

``noise_sigma`` (a Gaussian noise level, 0-255, or ``"estimate"``) turns on the mean
correction (``nnkit.denoise.mean_correction``): the output's local means are made to agree
with the noisy photo's under clipped Gaussian noise, which removes the colour cast of clipped
dark and bright areas and the model's own small offsets. ``Denoiser`` turns it on for models
of Gaussian noise (``correct_means``); the default of the functions here is the model alone.

Output files are named ``<name>.denoised.<type>`` from the photo's name alone and keep its
depth, alpha, colour profile and EXIF (``nnkit.denoise.photo``): ``denoise_file`` never writes
over its input, and refuses an existing output unless ``overwrite=True``.

Where each part lives: ``nnkit.denoise.tiling`` (tiles, blending windows, orientations,
``denoise_tensor``), ``nnkit.denoise.array_denoise`` (``denoise_array``, ``denoise_float``, strength
and the clean-photo fade), ``nnkit.denoise.file_denoise`` (``denoise_file``, ``output_path``) and
``nnkit.denoise.denoiser`` (``Denoiser``). Every name is importable from here.
"""

from nnkit.denoise.array_denoise import (
    FADE_SIGMA0,
    FADE_WIDTH,
    check_strength,
    denoise_array,
    denoise_float,
    fade_strength,
)
from nnkit.denoise.denoiser import Denoiser
from nnkit.denoise.file_denoise import OUTPUT_SUFFIX, denoise_file, output_path
from nnkit.denoise.tiling import (
    MAX_BATCH,
    MAX_TILE,
    ORIENTATIONS,
    CancelFn,
    Cancelled,
    ProgressFn,
    TileFn,
    denoise_tensor,
    predict_oriented,
    tile_starts,
)

__all__ = [
    "FADE_SIGMA0",
    "FADE_WIDTH",
    "MAX_BATCH",
    "MAX_TILE",
    "ORIENTATIONS",
    "OUTPUT_SUFFIX",
    "CancelFn",
    "Cancelled",
    "Denoiser",
    "ProgressFn",
    "TileFn",
    "check_strength",
    "denoise_array",
    "denoise_file",
    "denoise_float",
    "denoise_tensor",
    "fade_strength",
    "output_path",
    "predict_oriented",
    "tile_starts",
]
