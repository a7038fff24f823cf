"""Reading and writing image files: uint8 RGB (H, W, 3) arrays at the edges.

``read_image`` accepts PNG, JPEG, TIFF, BMP, WebP (and GIF, first frame), decided by the
file's content, not its name. It honours the EXIF orientation and converts grey, grey+alpha,
RGBA, palette, CMYK and 16-bit images to 8-bit RGB. Transparent pixels are composited on a
white background (not dropped: fully transparent pixels often hold arbitrary colours).
Anything else raises ``ImageReadError`` naming the file and the reason.

``write_image`` writes atomically (temporary file in the same folder, then a rename) and never
replaces an existing file unless asked to.

These 8-bit helpers serve training data, previews and tests. A photo that must come back as it
was (16-bit or float, grey, alpha, ICC profile, EXIF) goes through ``nnkit.denoise.photo``
(``read_photo`` / ``save_like``), as ``denoise`` does.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from nnkit.denoise.tempfiles import write_file_atomically

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")
READ_FORMATS = frozenset({"PNG", "JPEG", "MPO", "TIFF", "BMP", "WEBP", "GIF"})
MAX_PIXELS = 150_000_000  # refused above: bomb guard; denoise peaks ~0.66 GB + 25 B/pixel, ~4.4 GB here

_WRITE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95},
    "WEBP": {"lossless": True},
    "PNG": {"compress_level": 6},
}


class ImageReadError(ValueError):
    """An image file could not be read; the message names the file and why."""

    def __init__(self, path: str | os.PathLike[str], reason: str = "cannot be read") -> None:
        super().__init__(f"cannot read image {os.fspath(path)!r}: {reason}")
        self.path = Path(path)
        self.reason = reason


def check_regular(path: Path) -> None:
    """Refuse what is not a regular file before opening it (opening a FIFO blocks until a writer comes)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ImageReadError(path, "no such file") from None
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(mode):
        raise ImageReadError(path, "is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise ImageReadError(path, "not a regular file (a pipe, device or socket)")


def open_checked(path: Path) -> Image.Image:
    """Open ``path`` lazily and check its format and size before decoding pixels."""
    check_regular(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
        except FileNotFoundError:
            raise ImageReadError(path, "no such file") from None
        except IsADirectoryError:
            raise ImageReadError(path, "is a folder, not a file") from None
        except UnidentifiedImageError:
            raise ImageReadError(path, "not a recognised image file") from None
        except Image.DecompressionBombError as exc:
            raise ImageReadError(path, f"too many pixels ({exc})") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageReadError(path, str(exc) or type(exc).__name__) from None
    if image.format not in READ_FORMATS:
        image.close()
        raise ImageReadError(path, f"format {image.format} is not supported (PNG, JPEG, TIFF, BMP, WebP, GIF)")
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise ImageReadError(path, f"{width}x{height} pixels is more than the limit of {MAX_PIXELS:,}")
    if width < 1 or height < 1:
        image.close()
        raise ImageReadError(path, f"empty image ({width}x{height})")
    return image


def _on_white(rgba: Image.Image) -> Image.Image:
    """Composite an RGBA image on a white background."""
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image of any common mode to uint8 (H, W, 3)."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey (PNG opens as I or I;16): full range 0..65535 -> 0..255.
        values = np.asarray(image).astype(np.float64)
        grey = np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "F":
        values = np.asarray(image).astype(np.float64)
        finite = values[np.isfinite(values)]
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
        grey = np.clip(np.rint(np.nan_to_num(values) * scale), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        return np.asarray(_on_white(image.convert("RGBA")))
    if mode == "L" and "transparency" in image.info:
        return np.asarray(_on_white(image.convert("RGBA")))
    if mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as a writable uint8 (H, W, 3) RGB array; ImageReadError if it cannot."""
    path = Path(path)
    image = open_checked(path)
    try:
        with image:
            try:
                image.seek(0)
                image.load()
            except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
                raise ImageReadError(path, f"broken or truncated image ({exc})") from None
            try:
                oriented = ImageOps.exif_transpose(image)
            except Exception:  # a broken EXIF block: keep the stored orientation
                oriented = image
            try:
                array = _to_rgb_array(oriented if oriented is not None else image)
            except (OSError, ValueError) as exc:
                raise ImageReadError(path, f"cannot convert mode {image.mode} to RGB ({exc})") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, f"too many pixels ({exc})") from None
    return np.array(array, dtype=np.uint8, copy=True)


def write_image(path: str | os.PathLike[str], array: np.ndarray, *, overwrite: bool = False) -> Path:
    """Write a uint8 (H, W, 3) or (H, W) array atomically; the format follows the suffix."""
    path = Path(path)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(_WRITE_FORMATS)
        raise ValueError(f"cannot write {str(path)!r}: unknown suffix {path.suffix!r} (use {known})")
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"cannot write {str(path)!r}: array must be uint8, got {array.dtype}")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)) or 0 in array.shape:
        raise ValueError(f"cannot write {str(path)!r}: array must be (H, W, 3) or (H, W), got {tuple(array.shape)}")
    if not overwrite and path.exists():
        raise FileExistsError(f"will not overwrite existing file {str(path)!r}")
    image = Image.fromarray(np.ascontiguousarray(array))
    return write_file_atomically(
        path, lambda handle: image.save(handle, format=fmt, **_SAVE_OPTIONS.get(fmt, {})), overwrite=overwrite
    )


def list_images(folder: str | os.PathLike[str], *, recursive: bool = False) -> list[Path]:
    """Image files (by suffix, case-insensitive) in ``folder``, sorted; hidden files are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {str(folder)!r}")
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    found = [
        p
        for p in candidates
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found)


def image_to_tensor(array: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) array -> float32 (3, H, W) tensor in [0, 1]."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"image must be uint8 (H, W, 3), got {array.dtype} {tuple(array.shape)}")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).float().div_(255.0)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """Float (3, H, W) or (1, 3, H, W) tensor in [0, 1] -> uint8 (H, W, 3), clipped and rounded."""
    if tensor.dim() == 4 and tensor.shape[0] == 1:
        tensor = tensor[0]
    if tensor.dim() != 3 or tensor.shape[0] != 3:
        raise ValueError(f"tensor must be (3, H, W) or (1, 3, H, W), got {tuple(tensor.shape)}")
    scaled = tensor.detach().to("cpu", torch.float32).clamp(0.0, 1.0).mul(255.0).round()
    return scaled.to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def special_file_kind(path: Path) -> str | None:
    """'a pipe (FIFO)', 'a device', 'a socket' for special files (reading them may block for ever), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None
