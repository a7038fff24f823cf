"""Data-parallel training on torch.distributed: several processes, the numbers of one.

Every process runs the same program on the same seeded global batches. Rank ``r`` of
``W`` keeps rows ``r·B/W … (r+1)·B/W`` of each batch, runs the hand-written forward and
backward on them, and the gradients are averaged with ``all_reduce`` over a few flat
buffers (buckets) before every process takes the same optimiser step. Each slice's loss
is a mean over equally many rows, so the average of the slices' gradients is the gradient
of the whole batch's mean: W processes with global batch B compute what one process with
batch B computes, up to the order of floating-point additions.

The training loss rides in the last bucket, so progress reports the whole batch's loss
without another collective. Stopping is collective (one number reduced per step): a stop
request or Ctrl-C on any process stops every process after the same step. Only rank 0
writes files, prints and validates; it broadcasts the validation PSNR so that every rank
takes the same decisions (divergence, the end of the run).

All-reduce is a plain tensor operation: no autograd, no torch.nn (gloo on the CPU, NCCL
on CUDA with one process per GPU).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import Tensor

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.engines import Engine, NnkitEngine

BUCKET_BYTES = 25 << 20  # like DDP: a few large all-reduces beat one per parameter
PEER_TIMEOUT = timedelta(minutes=10)  # a peer that hangs (not one that dies: that is seen at once)


class PeerLostError(RuntimeError):
    """Another training process of the run stopped answering (it died or was killed)."""


def world_size_from_env() -> int:
    """WORLD_SIZE set by torchrun (1 when not launched by it)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


@dataclass(frozen=True)
class Group:
    """This process's place in a data-parallel run."""

    rank: int
    world_size: int
    local_rank: int
    backend: str

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes, prints and validates."""
        return self.rank == 0

    # -- collectives the trainer needs ---------------------------------------------------
    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any rank."""
        value = torch.tensor([1.0 if flag else 0.0], device=self._device)
        self._collective(dist.all_reduce, value)
        return bool(value.item() > 0)

    def broadcast_float(self, value: float) -> float:
        """Rank 0's ``value`` on every rank."""
        box = torch.tensor([value], dtype=torch.float64, device=self._device)
        self._collective(dist.broadcast, box, src=0)
        return float(box.item())

    def broadcast_tensors(self, tensors: list[Tensor]) -> None:
        """Overwrite ``tensors`` with rank 0's (the same initial weights everywhere)."""
        for t in tensors:
            self._collective(dist.broadcast, t, src=0)

    def shard(self, batches: Iterable[tuple[Tensor, Tensor]]) -> Iterator[tuple[Tensor, Tensor]]:
        """This rank's rows of each global batch."""
        for x, y in batches:
            rows = x.shape[0] // self.world_size
            lo = self.rank * rows
            yield x[lo : lo + rows], y[lo : lo + rows]

    @property
    def _device(self) -> torch.device:
        return torch.device("cuda", torch.cuda.current_device()) if self.backend == "nccl" else torch.device("cpu")

    def _collective(self, op: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run a torch.distributed collective; a dead or broken peer becomes PeerLostError."""
        try:
            op(*args, **kwargs)
        except (RuntimeError, dist.DistBackendError) as exc:
            raise PeerLostError(
                f"lost contact with the other training processes of this run ({self.world_size} in all, "
                f"this is rank {self.rank}): {_backend_reason(exc)}"
            ) from None


def _backend_reason(exc: BaseException) -> str:
    """'Connection closed by peer [127.0.0.1]:59017' out of gloo's '[file.cc:553] Connection closed … Check …'."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = text.rsplit("] ", 1)[-1] if text.startswith("[") else text
    return text.split(". ", 1)[0][:160]


def join(config: RunConfig) -> Group | None:
    """Join the run torchrun started (process group from its environment); None in a single process.

    gloo serves the CPU, NCCL CUDA (each process then uses GPU ``LOCAL_RANK``).
    """
    world = world_size_from_env()
    if world <= 1:
        return None
    check_config(config, world)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    wants_cuda = config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available())
    backend = "nccl" if wants_cuda else "gloo"
    if wants_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=PEER_TIMEOUT)
    return Group(dist.get_rank(), dist.get_world_size(), local_rank, backend)


def check_config(config: RunConfig, world: int) -> None:
    """ConfigError for settings a data-parallel run cannot honour."""
    if config.batch_size % world:
        raise ConfigError(
            "batch_size",
            f"{config.batch_size} does not split over {world} processes: use a multiple of {world} "
            "(the batch size is the global batch, shared out between the processes)",
        )
    if config.engine != "nnkit":
        raise ConfigError("engine", "data-parallel training runs the nnkit engine (the torch.nn twin has DDP)")
    if config.device.startswith("cuda:"):
        raise ConfigError("device", f"{config.device}: with several processes each uses GPU LOCAL_RANK: use 'cuda'")
    if config.lockstep:
        raise ConfigError("lockstep", "runs the torch.nn twin beside nnkit in one process: not data-parallel")


def leave(status: int, *, broken: bool) -> None:
    """End this process's part in the run: close the process group after a clean end.

    After a lost peer (``broken``) closing the group can block, and even a normal interpreter
    exit can abort in the backend's teardown; so the process leaves at once with ``status``,
    its output flushed (the run's files are already written, atomically).
    """
    if not broken:
        if dist.is_initialized():
            dist.destroy_process_group()
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class GradientAverager:
    """Averages every parameter's gradient, and the loss, over the processes in a few flat buffers.

    Called after the backward pass and before the optimiser step, with the loss tensor of
    the step (0-dim); on return every gradient and the loss hold the mean over ranks. It
    only reads and writes tensors in place, so a CUDA graph can capture it (NCCL).
    """

    def __init__(self, group: Group, grads: Callable[[], list[Tensor]], bucket_bytes: int = BUCKET_BYTES) -> None:
        self.group = group
        self.grads = grads  # looked up at each call: optimisers and .to() may replace the buffers
        self.bucket_bytes = bucket_bytes
        self._buckets: list[tuple[Tensor, list[slice]]] | None = None
        self._layout: list[tuple[torch.Size, torch.dtype, torch.device]] = []

    def _build(self, grads: list[Tensor]) -> list[tuple[Tensor, list[slice]]]:
        buckets: list[tuple[Tensor, list[slice]]] = []
        spans: list[slice] = []
        size = 0
        first = grads[0]
        for g in grads:
            if size and (size + g.numel()) * g.element_size() > self.bucket_bytes:
                buckets.append((torch.empty(size, dtype=first.dtype, device=first.device), spans))
                spans, size = [], 0
            spans.append(slice(size, size + g.numel()))
            size += g.numel()
        # the last bucket has one more slot: the loss travels with the gradients
        buckets.append((torch.empty(size + 1, dtype=first.dtype, device=first.device), spans))
        return buckets

    def __call__(self, loss: Tensor) -> None:
        grads = self.grads()
        layout = [(g.shape, g.dtype, g.device) for g in grads]
        if self._buckets is None or layout != self._layout:
            if len({(d, dev) for _, d, dev in layout}) != 1:
                raise ValueError("GradientAverager: all gradients must share one dtype and device")
            self._buckets, self._layout = self._build(grads), layout
        index = 0
        for flat, spans in self._buckets:
            views = [flat[s] for s in spans]
            mine = [g.reshape(-1) for g in grads[index : index + len(spans)]]
            torch._foreach_copy_(views, mine)
            last = flat is self._buckets[-1][0]
            if last:
                flat[-1:].copy_(loss.reshape(1))
            self.group._collective(dist.all_reduce, flat)
            flat.div_(self.group.world_size)
            for g, view in zip(grads[index : index + len(spans)], views, strict=True):
                g.copy_(view.view_as(g))
            if last:
                loss.copy_(flat[-1].reshape(loss.shape))
            index += len(spans)


def data_parallel(engine: Engine, group: Group) -> None:
    """Make ``engine`` train data-parallel: rank 0's weights everywhere, gradients averaged each step."""
    if not isinstance(engine, NnkitEngine):
        raise ConfigError("engine", "data-parallel training runs the nnkit engine")
    group.broadcast_tensors(engine.parameter_tensors())
    engine.grad_sync = GradientAverager(group, engine.gradient_tensors)
