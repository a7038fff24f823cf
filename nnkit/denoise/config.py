"""RunConfig: the one description of a training run.

The CLI flags, the app's form, the checkpoint metadata and the experiment tables are all
views of this dataclass. Validation lives here, in one place: constructing a RunConfig
with a bad value raises ``ConfigError`` naming the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

# The choices of each field. config imports nothing of nnkit.denoise (every module may import it), so the
# tables that implement a choice key themselves by these names: models.ARCHITECTURES (ARCHS),
# data.LOADERS (DATA_SOURCES), nnkit.init.INITIALISERS (INITS); tests/denoise/test_config.py ties them.
ARCHS = ("report", "unet")
OPTIMIZERS = ("adam", "sgd")
INITS = ("he", "he_report", "xavier", "torch_default", "constant_1", "constant_1e-3")
NOISES = ("gaussian", "poisson", "impulse", "camera", "none")
TARGETS = ("noisy", "clean", "self")
MASK_FILLS = ("neighbour", "interpolate")
DATA_SOURCES = ("builtin", "folder", "course", "deadleaves")
LOSSES = ("mse", "l1")
ENGINES = ("nnkit", "torch")
DTYPES = ("float32", "float64")
MAX_BATCH = 4096
MAX_EPOCHS = 1_000_000
MAX_EPOCH_SIZE = 10_000_000
MAX_BATCH_PIXELS = 1 << 26  # batch_size * crop_size**2: 64 crops of 1024², about 0.8 GB per float32 batch
LR_SCHEDULES = ("constant", "cosine", "step")
LEVEL_DRAWS = ("uniform", "light")
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


class ConfigError(ValueError):
    """A RunConfig field holds a value that is not allowed; the message names the field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


def _meta(help_text: str, **extra: Any) -> dict[str, Any]:
    return {"help": help_text, **extra}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run. Frozen: derive variants with ``replace``."""

    arch: str = field(default="unet", metadata=_meta("network: 'report' (the course network) or 'unet'", choices=ARCHS))
    width: int = field(default=32, metadata=_meta("channels of the first layer (report: every layer)"))
    init: str = field(default="he", metadata=_meta("weight initialisation", choices=INITS))
    init_from: str = field(
        default="", metadata=_meta("start from this checkpoint's weights (fine-tuning; same arch and width); '' = init")
    )
    optimizer: str = field(default="adam", metadata=_meta("optimiser", choices=OPTIMIZERS))
    lr: float = field(default=1e-3, metadata=_meta("learning rate"))
    lr_schedule: str = field(
        default="constant",
        metadata=_meta(
            "learning rate per epoch: 'constant', 'cosine' (down to lr_min) or 'step'", choices=LR_SCHEDULES
        ),
    )
    warmup_epochs: int = field(default=0, metadata=_meta("epochs of linear warm-up from lr/warmup_epochs to lr"))
    lr_min: float = field(default=0.0, metadata=_meta("cosine schedule: the learning rate of the last epoch"))
    lr_step_epochs: int = field(
        default=30, metadata=_meta("step schedule: multiply the rate by lr_step_gamma every N epochs")
    )
    lr_step_gamma: float = field(default=0.1, metadata=_meta("step schedule: the factor applied every lr_step_epochs"))
    momentum: float = field(default=0.9, metadata=_meta("SGD momentum"))
    nesterov: bool = field(default=False, metadata=_meta("SGD Nesterov momentum"))
    beta1: float = field(default=0.9, metadata=_meta("Adam beta1"))
    beta2: float = field(default=0.999, metadata=_meta("Adam beta2"))
    eps: float = field(default=1e-8, metadata=_meta("Adam epsilon"))
    weight_decay: float = field(default=0.0, metadata=_meta("L2 weight decay"))
    batch_size: int = field(default=16, metadata=_meta("images per step"))
    epochs: int = field(default=10, metadata=_meta("number of epochs"))
    epoch_size: int = field(default=1000, metadata=_meta("training crops per epoch (built-in and folder data)"))
    crop_size: int = field(default=32, metadata=_meta("side of the square training crops, in pixels"))
    noise: str = field(default="gaussian", metadata=_meta("noise model", choices=NOISES))
    noise_level: float = field(
        default=25.0,
        metadata=_meta(
            "gaussian: sigma in 0-255 units; poisson: photons at white; impulse: % of pixels hit; "
            "camera: 1000 x shot-noise gain (0.1-12: Brooks et al.'s range); "
            "none: unused (the images are noisy already)"
        ),
    )
    target: str = field(
        default="noisy",
        metadata=_meta("target: 'noisy' (N2N), 'clean' (N2C) or 'self' (blind-spot, one noisy image)", choices=TARGETS),
    )
    mask_fraction: float = field(default=0.04, metadata=_meta("target 'self': fraction of pixels hidden and scored"))
    mask_fill: str = field(
        default="neighbour",
        metadata=_meta("target 'self': hidden pixels show a random neighbour or an interpolation", choices=MASK_FILLS),
    )
    clean_path: str = field(
        default="", metadata=_meta("target 'self': optional clean image or folder (same file names), only to score")
    )
    noise_level_max: float = field(
        default=0.0,
        metadata=_meta(
            "blind training: each training image draws its level uniformly in [noise_level, noise_level_max]; "
            "0 = the one fixed noise_level"
        ),
    )
    level_draw: str = field(
        default="uniform",
        metadata=_meta(
            "blind training: how levels are drawn in the range: 'uniform', or 'light' (log-uniform in "
            "level + a tenth of the range: light noise, where a blind model is weakest, drawn more often)",
            choices=LEVEL_DRAWS,
        ),
    )
    camera_mix: float = field(
        default=0.0,
        metadata=_meta(
            "blind gaussian training: fraction of training images that get camera noise instead "
            "(shot gain drawn log-uniformly in Brooks et al.'s range, input and target alike)"
        ),
    )
    data: str = field(default="builtin", metadata=_meta("data source", choices=DATA_SOURCES))
    data_path: str = field(default="", metadata=_meta("folder of images, or folder with train_data.pkl/val_data.pkl"))
    dead_leaves_mix: float = field(
        default=0.0, metadata=_meta("fraction of training crops that are synthetic dead-leaves images")
    )
    augment: bool = field(
        default=True, metadata=_meta("flips, turns, channel orders and colour changes of training crops")
    )
    loss: str = field(default="mse", metadata=_meta("loss: 'mse' (L2) or 'l1'", choices=LOSSES))
    engine: str = field(default="nnkit", metadata=_meta("'nnkit' or 'torch' (the torch.nn twin)", choices=ENGINES))
    device: str = field(default="auto", metadata=_meta("'auto', 'cpu', 'cuda' or 'cuda:N'"))
    dtype: str = field(default="float32", metadata=_meta("float32, or float64 for exact comparisons", choices=DTYPES))
    cuda_graph: bool = field(default=True, metadata=_meta("capture the training step as a CUDA graph where it helps"))
    seed: int = field(default=0, metadata=_meta("random seed (weights, crops, noise)"))
    score_photos: bool = field(
        default=False,
        metadata=_meta("when all epochs are done, score the whole validation photos (PSNR, SSIM; seconds a photo)"),
    )
    inspect_every: int = field(default=0, metadata=_meta("per-layer statistics every N steps (0: off; nnkit engine)"))
    lockstep: bool = field(
        default=False, metadata=_meta("train the torch.nn twin beside nnkit on the same batches and report the drift")
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices is not None and value not in choices:
                raise ConfigError(f.name, f"{value!r} is not one of {', '.join(choices)}")
            if f.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f.name, f"must be an integer, got {value!r}")
            if f.type in ("float", float) and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ConfigError(f.name, f"must be a finite number, got {value!r}")
            if f.type in ("bool", bool) and not isinstance(value, bool):
                raise ConfigError(f.name, f"must be true or false, got {value!r}")
            if f.type in ("str", str) and not isinstance(value, str):
                raise ConfigError(f.name, f"must be text, got {value!r}")
        self._check_ranges()

    def _check_ranges(self) -> None:
        def need(ok: bool, name: str, message: str) -> None:
            if not ok:
                raise ConfigError(name, f"{message}, got {getattr(self, name)!r}")

        need(1 <= self.width <= 1024, "width", "must be between 1 and 1024")
        need(self.lr > 0, "lr", "must be positive")
        need(0 <= self.momentum < 1, "momentum", "must be in [0, 1)")
        need(0 <= self.beta1 < 1, "beta1", "must be in [0, 1)")
        need(0 <= self.beta2 < 1, "beta2", "must be in [0, 1)")
        need(self.eps > 0, "eps", "must be positive")
        need(self.weight_decay >= 0, "weight_decay", "must be zero or positive")
        need(1 <= self.batch_size <= MAX_BATCH, "batch_size", f"must be between 1 and {MAX_BATCH}")
        need(1 <= self.epochs <= MAX_EPOCHS, "epochs", f"must be between 1 and {MAX_EPOCHS:,}")
        need(1 <= self.epoch_size <= MAX_EPOCH_SIZE, "epoch_size", f"must be between 1 and {MAX_EPOCH_SIZE:,}")
        need(4 <= self.crop_size <= 1024, "crop_size", "must be between 4 and 1024")
        pixels = self.batch_size * self.crop_size**2  # a batch's memory grows with it: bound it
        need(pixels <= MAX_BATCH_PIXELS, "batch_size", f"times crop_size² must be at most {MAX_BATCH_PIXELS:,} pixels")
        need(0 <= self.seed < 2**63, "seed", "must be between 0 and 2**63 - 1")
        if self.noise == "gaussian":
            need(0 <= self.noise_level <= 255, "noise_level", "gaussian sigma must be in [0, 255]")
        elif self.noise == "poisson":
            need(self.noise_level > 0, "noise_level", "poisson photon count must be positive")
        elif self.noise == "impulse":
            need(0 <= self.noise_level <= 100, "noise_level", "impulse percentage must be in [0, 100]")
        elif self.noise == "camera":
            need(0 <= self.noise_level <= 100, "noise_level", "camera level (1000 x shot gain) must be in [0, 100]")
        if self.noise_level_max != 0:
            above = self.noise_level_max > self.noise_level
            need(above, "noise_level_max", "must be 0 (no range) or above noise_level")
            top = {"gaussian": 255.0, "impulse": 100.0, "camera": 100.0}.get(self.noise, math.inf)
            need(self.noise_level_max <= top, "noise_level_max", f"must be at most {top:g} for {self.noise} noise")
        need(0 <= self.camera_mix <= 1, "camera_mix", "must be a fraction in [0, 1]")
        if self.camera_mix > 0:
            need(self.noise == "gaussian", "camera_mix", "mixes camera noise into 'gaussian' noise only")
            need(self.noise_level_max != 0, "camera_mix", "needs blind training (a noise_level_max)")
            need(self.target != "self", "camera_mix", "must be 0 with target 'self'")
        need(self.warmup_epochs >= 0, "warmup_epochs", "must be zero or positive")
        need(0 <= self.lr_min <= self.lr, "lr_min", "must be in [0, lr]")
        need(self.lr_step_epochs >= 1, "lr_step_epochs", "must be at least 1")
        need(0 < self.lr_step_gamma <= 1, "lr_step_gamma", "must be in (0, 1]")
        need(0 < self.mask_fraction <= 0.25, "mask_fraction", "must be in (0, 0.25]")
        if self.noise == "none":
            need(self.target == "self", "target", "must be 'self' with noise 'none' (input and target would be equal)")
            need(self.data != "builtin", "data", "must be your own noisy photos ('folder') with noise 'none'")
        need(bool(_DEVICE_RE.match(self.device)), "device", "must be 'auto', 'cpu', 'cuda' or 'cuda:N'")
        if self.data in ("folder", "course"):
            need(bool(self.data_path.strip()), "data_path", f"is needed for data={self.data!r}")
        need(0 <= self.dead_leaves_mix <= 1, "dead_leaves_mix", "must be a fraction in [0, 1]")
        if self.dead_leaves_mix > 0:
            photos = self.data in ("builtin", "folder")
            need(photos, "dead_leaves_mix", f"mixes into 'builtin' or 'folder' data only, not {self.data!r}")
            need(self.target != "self", "dead_leaves_mix", "must be 0 with target 'self' (it trains on photos only)")
        if self.data == "deadleaves":
            need(self.target != "self", "target", "'self' needs photos: use data 'builtin' or 'folder'")
        need(self.inspect_every >= 0, "inspect_every", "must be zero (off) or positive")
        if self.inspect_every or self.lockstep:
            name = "inspect_every" if self.inspect_every else "lockstep"
            need(self.engine == "nnkit", name, "needs engine 'nnkit' (it looks inside the hand-written layers)")
        if self.nesterov and self.optimizer == "sgd":
            need(self.momentum > 0, "momentum", "must be positive for Nesterov momentum")

    @property
    def noise_range(self) -> tuple[float, float] | None:
        """(low, high) of blind training's noise levels, or None for one fixed ``noise_level``."""
        return (self.noise_level, self.noise_level_max) if self.noise_level_max else None

    # -- views ---------------------------------------------------------------------------
    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build from a dict (checkpoint metadata, settings); unknown keys or a non-dict raise ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError("config", f"must be a mapping of settings, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        # named as written when it is a name, else quoted (an empty or non-text key still reads as one)
        unknown = sorted(k if isinstance(k, str) and k.isidentifier() else repr(k) for k in data if k not in known)
        if unknown:
            raise ConfigError(unknown[0], f"unknown setting (known: {', '.join(sorted(known))})")
        return cls(**data)

    def differences(self, other: RunConfig | None = None) -> dict[str, Any]:
        """Fields whose value differs from ``other`` (the defaults when None)."""
        base = other or RunConfig()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(base, f.name)}

    @staticmethod
    def field_help(name: str) -> str:
        return next(str(f.metadata.get("help", "")) for f in fields(RunConfig) if f.name == name)

    @staticmethod
    def field_choices(name: str) -> tuple[str, ...] | None:
        return next(f.metadata.get("choices") for f in fields(RunConfig) if f.name == name)
