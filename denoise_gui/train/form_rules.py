"""When a field of the run form does not apply, and why (shown as the disabled field's tooltip).

Each rule takes the form's raw values and returns '' when the field applies, else the reason in
words. Fields that are not named here always apply. Machine facts (a CUDA GPU or not) come from
torch, asked once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

Rule = Callable[[dict[str, Any]], str]


@cache
def has_cuda() -> bool:
    """Whether this machine has a CUDA GPU torch can use."""
    import torch

    return bool(torch.cuda.is_available())


def _only_sgd(values: dict[str, Any]) -> str:
    return "" if values.get("optimizer") == "sgd" else "Only for SGD (the optimiser is Adam)"


def _only_adam(values: dict[str, Any]) -> str:
    return "" if values.get("optimizer") == "adam" else "Only for Adam (the optimiser is SGD)"


def _only_own_data(values: dict[str, Any]) -> str:
    data = values.get("data")
    if data in ("builtin", "deadleaves"):
        return f"Only for a folder or the course files (the data is {data})"
    return ""


def _only_photo_data(values: dict[str, Any]) -> str:
    data = values.get("data")
    return "" if data in ("builtin", "folder") else f"Only for built-in photos or a folder (the data is {data})"


def _only_self_target(values: dict[str, Any]) -> str:
    return "" if values.get("target") == "self" else "Only for the self-supervised target 'self'"


def _only_with_noise(values: dict[str, Any]) -> str:
    return "" if values.get("noise") != "none" else "No noise is added (noise model 'none')"


def _only_cuda(values: dict[str, Any]) -> str:
    if not has_cuda():
        return "No CUDA GPU on this machine: CUDA graphs need one"
    if str(values.get("device", "auto")) == "cpu":
        return "Only when training on a CUDA device (the device is the CPU)"
    return ""


def _only_nnkit(values: dict[str, Any]) -> str:
    return "" if values.get("engine") == "nnkit" else "Only with the nnkit engine"


def _only_blind(values: dict[str, Any]) -> str:
    return "" if values.get("noise_level_max") else "Only for blind training (a Level max above 0)"


def _only_blind_gaussian(values: dict[str, Any]) -> str:
    if values.get("noise") != "gaussian":
        return "Only mixed into Gaussian noise"
    return _only_blind(values)


def _only_cosine(values: dict[str, Any]) -> str:
    return "" if values.get("lr_schedule") == "cosine" else "Only for the cosine schedule"


def _only_step(values: dict[str, Any]) -> str:
    return "" if values.get("lr_schedule") == "step" else "Only for the step schedule"


RULES: dict[str, Rule] = {
    "lr_min": _only_cosine,
    "lr_step_epochs": _only_step,
    "lr_step_gamma": _only_step,
    "momentum": _only_sgd,
    "nesterov": _only_sgd,
    "beta1": _only_adam,
    "beta2": _only_adam,
    "eps": _only_adam,
    "data_path": _only_own_data,
    "dead_leaves_mix": _only_photo_data,
    "level_draw": _only_blind,
    "camera_mix": _only_blind_gaussian,
    "mask_fraction": _only_self_target,
    "mask_fill": _only_self_target,
    "clean_path": _only_self_target,
    "noise_level": _only_with_noise,
    "cuda_graph": _only_cuda,
    "inspect_every": _only_nnkit,
    "lockstep": _only_nnkit,
}


def why_not(name: str, values: dict[str, Any]) -> str:
    """'' when field ``name`` applies to ``values`` on this machine, else the reason."""
    rule = RULES.get(name)
    return rule(values) if rule is not None else ""
