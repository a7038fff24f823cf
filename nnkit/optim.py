"""Optimisers: SGD and Adam, updating nnkit Parameters in place, step for step as torch.optim does.

Both follow the single-tensor algorithms of ``torch.optim`` in the same order of
floating-point operations, so float64 trajectories agree with ``torch.optim`` to rounding.
``state_dict()`` holds tensors and plain numbers only (torch.optim's layout:
``{"state": {index: {name: Tensor}}, "param_groups": [{...}]}``) so that it fits a
safetensors checkpoint once flattened, and resuming continues the same trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from nnkit.module import Parameter


def _check_number(name: str, value: float, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


class Optimizer:
    """Holds the Parameter list of a model; subclasses implement ``step()``."""

    _hyper: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not an nnkit Parameter")
        self.lr = _check_number("lr", lr, positive=True)
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Set every gradient to zero in place (CUDA-graph friendly: the tensors are kept), in one multi-tensor op."""
        torch._foreach_zero_([p.grad for p in self.params])

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__}.step")

    # -- hyperparameters ----------------------------------------------------------
    def hyperparameters(self) -> dict[str, Any]:
        """The current hyperparameters by name (what ``param_groups[0]`` holds besides "params")."""
        return {name: getattr(self, name) for name in self._hyper}

    def _set_hyperparameters(self, group: Mapping[str, Any]) -> None:
        missing = [k for k in self._hyper if k not in group]
        if missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict: param_groups[0] lacks {missing}")
        self._validate({k: group[k] for k in self._hyper})
        for k in self._hyper:
            value = group[k]
            setattr(self, k, tuple(float(b) for b in value) if k == "betas" else type(getattr(self, k))(value))

    def _validate(self, hyper: Mapping[str, Any]) -> None:
        _check_number("lr", hyper["lr"], positive=True)

    # -- state --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {i: {name: Tensor}}, "param_groups": [{hyperparameters, "params": [0..n-1]}]}``."""
        state = {
            i: {k: (v if isinstance(v, Tensor) else torch.tensor(float(v))) for k, v in s.items()}
            for i, s in self.state.items()
        }
        group = dict(self.hyperparameters())
        group["params"] = list(range(len(self.params)))
        return {"state": state, "param_groups": [group]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state (copied onto each parameter's device/dtype)."""
        name = type(self).__name__
        try:
            groups = state_dict["param_groups"]
            states = state_dict["state"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{name}.load_state_dict needs keys 'state', 'param_groups'") from exc
        if len(groups) != 1:
            raise ValueError(f"{name}.load_state_dict: expected 1 param group, got {len(groups)}")
        group = groups[0]
        n = len(group.get("params", []))
        if n != len(self.params):
            raise ValueError(
                f"{name}.load_state_dict: state is for {n} parameters, this optimiser has {len(self.params)}"
            )
        new_state: dict[int, dict[str, Any]] = {}
        for key, entry in states.items():
            i = int(key)
            if not 0 <= i < len(self.params):
                raise ValueError(f"{name}.load_state_dict: state index {i} out of range 0..{len(self.params) - 1}")
            new_state[i] = self._load_entry(i, entry)
        self._set_hyperparameters(group)
        self.state = new_state

    def _load_entry(self, i: int, entry: Mapping[str, Any]) -> dict[str, Any]:
        p = self.params[i].data
        out: dict[str, Any] = {}
        for k, v in entry.items():
            if k == "step":
                out[k] = self._load_step(v, p)
                continue
            if not isinstance(v, Tensor) or v.shape != p.shape:
                shape = tuple(v.shape) if isinstance(v, Tensor) else type(v).__name__
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state[{i}][{k!r}] has shape {shape}, "
                    f"parameter {i} has {tuple(p.shape)}"
                )
            out[k] = v.detach().to(device=p.device, dtype=p.dtype).clone()
        return out

    def _load_step(self, value: Any, p: Tensor) -> Any:
        return float(value.item()) if isinstance(value, Tensor) else float(value)

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD)."""

    _hyper = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        hyper = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        self._validate(hyper)
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)

    def _validate(self, hyper: Mapping[str, Any]) -> None:
        super()._validate(hyper)
        momentum = _check_number("momentum", hyper["momentum"])
        dampening = _check_number("dampening", hyper["dampening"])
        _check_number("weight_decay", hyper["weight_decay"])
        if hyper["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"nesterov needs momentum > 0 and dampening == 0, got momentum={momentum}, dampening={dampening}"
            )

    def step(self) -> None:
        """One update of every parameter (the momentum buffer starts as a copy of the first gradient)."""
        for i, p in enumerate(self.params):
            grad = p.grad
            if self.weight_decay != 0:
                grad = grad.add(p.data, alpha=self.weight_decay)
            if self.momentum != 0:
                state = self.state.setdefault(i, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = grad.clone()
                    state["momentum_buffer"] = buf
                else:
                    buf.mul_(self.momentum).add_(grad, alpha=1 - self.dampening)
                grad = grad.add(buf, alpha=self.momentum) if self.nesterov else buf
            p.data.add_(grad, alpha=-self.lr)


class Adam(Optimizer):
    """Adam with bias correction and L2 weight decay added to the gradient (torch.optim.Adam).

    ``capturable=True`` keeps the step count as a tensor on the parameters' device and
    computes the bias corrections there, so the whole update can be captured in a CUDA
    graph (torch's ``capturable`` formula); the default keeps it as a Python number.
    ``foreach`` updates all parameters with one multi-tensor operation per formula step (the
    same per-element arithmetic, far fewer kernel launches); ``None`` uses it on CUDA.
    """

    _hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        capturable: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, lr)
        hyper = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        self._validate(hyper)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.capturable = bool(capturable)
        self.foreach = foreach

    def _validate(self, hyper: Mapping[str, Any]) -> None:
        super()._validate(hyper)
        betas = hyper["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for j, b in enumerate(betas):
            if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 <= b < 1.0:
                raise ValueError(f"betas[{j}] must be in [0, 1), got {b!r}")
        _check_number("eps", hyper["eps"], positive=True)
        _check_number("weight_decay", hyper["weight_decay"])

    def _init_state(self, i: int, p: Tensor) -> dict[str, Any]:
        step: Any = torch.zeros((), dtype=p.dtype, device=p.device) if self.capturable else 0.0
        state = {"step": step, "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
        self.state[i] = state
        return state

    def _load_step(self, value: Any, p: Tensor) -> Any:
        if self.capturable:
            t = value if isinstance(value, Tensor) else torch.tensor(float(value))
            return t.detach().to(device=p.device, dtype=p.dtype).clone().reshape(())
        return super()._load_step(value, p)

    def _use_foreach(self) -> bool:
        if self.capturable:
            return False
        first = self.params[0].data
        uniform = all(p.data.device == first.device and p.data.dtype == first.dtype for p in self.params)
        wanted = self.foreach if self.foreach is not None else first.device.type == "cuda"
        if not (wanted and uniform):
            return False
        steps = {self.state[i]["step"] for i in range(len(self.params)) if i in self.state}
        return len(steps) <= 1 and (not steps or len(self.state) == len(self.params))

    def _step_foreach(self) -> None:
        """All parameters at once with torch._foreach_* operations, the same arithmetic per element."""
        beta1, beta2 = self.betas
        states = [self.state.get(i) or self._init_state(i, p.data) for i, p in enumerate(self.params)]
        params = [p.data for p in self.params]
        grads = [p.grad for p in self.params]
        if self.weight_decay != 0:
            grads = list(torch._foreach_add(grads, params, alpha=self.weight_decay))
        exp_avgs = [st["exp_avg"] for st in states]
        exp_avg_sqs = [st["exp_avg_sq"] for st in states]
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        for st in states:
            st["step"] += 1
        step = states[0]["step"]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = self.lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, exp_avgs, denom, -step_size)

    def step(self) -> None:
        """One update of every parameter, in torch.optim.Adam's order of operations."""
        if self._use_foreach():
            self._step_foreach()
            return
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            state = self.state.get(i) or self._init_state(i, p.data)
            grad = p.grad
            if self.weight_decay != 0:
                grad = grad.add(p.data, alpha=self.weight_decay)
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            if self.capturable:
                step_t = state["step"]
                step_t += 1
                bias_correction1 = 1 - torch.pow(beta1, step_t)
                bias_correction2 = 1 - torch.pow(beta2, step_t)
                step_size_neg = (self.lr / bias_correction1).neg()
                bias_correction2_sqrt = bias_correction2.sqrt()
                denom = (exp_avg_sq.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(self.eps / step_size_neg)
                p.data.addcdiv_(exp_avg, denom)
            else:
                state["step"] += 1
                step = state["step"]
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = self.lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5
                denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
                p.data.addcdiv_(exp_avg, denom, value=-step_size)
