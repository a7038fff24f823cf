"""The rules of nnkit, enforced: import arrows, no Qt, no autograd, no torch.nn outside the twins.

Static part: an AST scan of every file under nnkit/. Behavioural part: a full forward, loss,
backward and update of a small conv net gives identical numbers with autograd on and off, and
never reaches Tensor.backward / torch.autograd.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from nnkit import Conv2d, MSELoss, ReLU, Sequential, Sigmoid, SkipConcat, TransposeConv2d

ROOT = Path(__file__).resolve().parents[2]
NNKIT = ROOT / "nnkit"
QT = ("PySide6", "PySide2", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6", "shiboken2", "qtpy")
ALLOWED_FUNCTIONAL = {"unfold", "fold"}
# nnkit losses' backward() takes no argument, like a scalar tensor's: name loss objects so they are told apart.
LOSS_OBJECT_NAMES = ("loss_fn", "criterion")
AUTOGRAD_NAMES = {"requires_grad", "requires_grad_", "retain_grad", "grad_fn", "enable_grad"}


def is_twin_file(path: Path) -> bool:
    """The files allowed to hold torch.nn twins and autograd engines."""
    return "reference" in path.stem or "twin" in path.stem


def is_core(path: Path) -> bool:
    """nnkit core: nnkit/*.py and nnkit/layers/**."""
    rel = path.relative_to(NNKIT)
    return len(rel.parts) == 1 or rel.parts[0] == "layers"


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(tree: ast.AST, module: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) for every import statement."""
    package = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + (1 if module.endswith("__init__") else 0)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            yield node.lineno, base, [a.name for a in node.names]


def dotted(node: ast.AST) -> str | None:
    """'torch.nn.functional.conv2d' for an attribute chain on a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def is_bare_backward(node: ast.AST) -> bool:
    """A call `something.backward()` without arguments: a tensor's, unless `something` is a loss object."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "backward"
        and not node.args
        and not node.keywords
    )


def violations(source: str, path: Path) -> list[str]:
    """Every rule broken by one nnkit source file, as 'file:line: what'."""
    tree = ast.parse(source)
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    module = _module_of(path) if path.is_relative_to(ROOT) else "nnkit.x"
    twin, core = is_twin_file(path), (is_core(path) if path.is_relative_to(NNKIT) else True)
    found = []
    for line, name, names in imports(tree, module):
        full = [name, *(f"{name}.{n}" for n in names)]
        if any(f == q or f.startswith(q + ".") for f in full for q in QT):
            found.append(f"{rel}:{line}: imports Qt ({name})")
        if any(f == "denoise_gui" or f.startswith("denoise_gui.") for f in full):
            found.append(f"{rel}:{line}: nnkit imports denoise_gui ({name})")
        if core and any(f == "nnkit.denoise" or f.startswith("nnkit.denoise.") for f in full):
            found.append(f"{rel}:{line}: nnkit core imports nnkit.denoise ({name})")
        if twin:
            continue
        if any(f.startswith(("torch.autograd", "torch.func", "functorch")) for f in full):
            found.append(f"{rel}:{line}: imports autograd ({name})")
        if name == "torch" and ("nn" in names or "autograd" in names):
            found.append(f"{rel}:{line}: imports torch.nn/torch.autograd")
        if name.startswith("torch.nn") and not (
            name == "torch.nn.functional" and names and set(names) <= ALLOWED_FUNCTIONAL
        ):
            found.append(f"{rel}:{line}: imports {name} {names} (only unfold/fold from torch.nn.functional)")
    if twin:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = dotted(node)
            if chain and chain.startswith(("torch.nn.", "torch.autograd", "torch.func.")):
                allowed = chain in {f"torch.nn.functional.{n}" for n in ALLOWED_FUNCTIONAL}
                prefix = chain in {"torch.nn.functional", "torch.nn"}  # part of a longer chain, judged there
                if not (allowed or prefix):
                    found.append(f"{rel}:{node.lineno}: uses {chain}")
            if node.attr in AUTOGRAD_NAMES:
                found.append(f"{rel}:{node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg == "requires_grad":
            found.append(f"{rel}:{getattr(node.value, 'lineno', 0)}: passes requires_grad=")
        elif is_bare_backward(node):
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            owner = ast.unparse(node.func.value)
            if not owner.split(".")[-1].endswith(LOSS_OBJECT_NAMES):
                found.append(f"{rel}:{node.lineno}: calls .backward() on {owner} (a tensor?)")
    return sorted(set(found))


def nnkit_files() -> list[Path]:
    return sorted(NNKIT.rglob("*.py"))


def test_scan_covers_nnkit() -> None:
    names = {p.relative_to(NNKIT).as_posix() for p in nnkit_files()}
    assert {"module.py", "loss.py", "layers/conv.py", "reference.py"} <= names


@pytest.mark.parametrize("path", nnkit_files(), ids=lambda p: p.relative_to(NNKIT).as_posix())
def test_nnkit_file_follows_the_rules(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8"), path) == []


BAD = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import unfold, conv2d
from PySide6.QtCore import QObject
import pyqtgraph
from denoise_gui import app
from nnkit.denoise import data
from torch import autograd
def f(x, loss):
    x.requires_grad_()
    y = torch.zeros(2, requires_grad=True)
    z = torch.nn.functional.conv2d(x, y)
    ok = torch.nn.functional.unfold(x, 3)
    y.sum().backward()
    loss.backward()
    self.loss_fn.backward()
    return torch.autograd.grad(z, x)
"""


def test_scanner_catches_every_kind_of_violation() -> None:
    found = "\n".join(violations(BAD, NNKIT / "layers" / "bad.py"))
    for expected in [
        ":3: imports torch.nn",
        ":4: imports torch.nn.functional",
        ":5: imports torch.nn.functional ['unfold', 'conv2d']",
        ":6: imports Qt",
        ":7: imports Qt",
        ":8: nnkit imports denoise_gui",
        ":9: nnkit core imports nnkit.denoise",
        ":10: imports torch.nn/torch.autograd",
        ":12: uses .requires_grad_",
        ":13: passes requires_grad=",
        ":14: uses torch.nn.functional.conv2d",
        ":16: calls .backward() on y.sum()",
        ":17: calls .backward() on loss",
        ":19: uses torch.autograd.grad",
    ]:
        assert expected in found, f"{expected!r} not in\n{found}"
    assert ":15:" not in found and ":18:" not in found
    twin_found = violations(BAD, NNKIT / "denoise" / "engines" / "twin.py")
    assert all("Qt" in v or "denoise_gui" in v for v in twin_found)  # twins may use torch.nn, never Qt


def test_denoise_may_import_nnkit_but_core_may_not_import_denoise() -> None:
    src = "from nnkit.layers import Conv2d\nfrom nnkit.denoise.config import RunConfig\n"
    assert violations(src, NNKIT / "denoise" / "models.py") == []
    assert violations(src, NNKIT / "init.py") == [
        "nnkit/init.py:2: nnkit core imports nnkit.denoise (nnkit.denoise.config)"
    ]



# -- no import circles ------------------------------------------------------------------------


def import_graph(files: list[Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``files`` it imports anywhere (function-local imports too, not TYPE_CHECKING ones).

    ``from a import b`` counts as importing ``a.b`` when that is one of the modules, else ``a``. A
    package's ``__init__`` that runs on the way to a submodule is not counted: only what a file names.
    """
    names = {_module_of(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for module, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # drop `if TYPE_CHECKING:` bodies: annotations only, never run
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
                node.body = []
        targets = set()
        for _, name, imported in imports(tree, module):
            subs = [f"{name}.{n}" for n in imported if f"{name}.{n}" in names]
            targets |= set(subs) if subs else ({name} if name in names else set())
        graph[module] = targets - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` as [a, b, ..., a], or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_find_cycle_finds_a_circle_and_only_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"b", "c"}}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_nnkit_has_no_import_circle() -> None:
    graph = import_graph(nnkit_files())
    assert graph["nnkit.denoise.engines"] >= {"nnkit.denoise.engines.base", "nnkit.denoise.engines.twin"}
    assert find_cycle(graph) == []

# -- behaviour: autograd is never needed --------------------------------------------------


def small_net() -> Sequential:
    gen = torch.Generator().manual_seed(0)
    return Sequential(
        Conv2d(3, 6, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        SkipConcat(Sequential(Conv2d(6, 6, 3, padding=1, generator=gen), ReLU())),
        TransposeConv2d(12, 3, 3, padding=1, generator=gen),
        Sigmoid(),
    )


def train_steps(grad_enabled: bool, steps: int = 3) -> list[torch.Tensor]:
    model = small_net()
    loss_fn = MSELoss()
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 9, 10, generator=gen)[..., :8, :8]  # a non-contiguous view, too
    y = torch.rand(2, 3, 8, 8, generator=gen)
    out = []
    with torch.set_grad_enabled(grad_enabled):
        for _ in range(steps):
            model.zero_grad()
            loss = loss_fn.forward(model.forward(x), y)
            grad_x = model.backward(loss_fn.backward())
            assert not loss.requires_grad and loss.grad_fn is None and not grad_x.requires_grad
            assert not any(p.requires_grad or p.grad.requires_grad for p in model.parameters())
            for p in model.parameters():
                p.data.sub_(0.5 * p.grad)
            out += [loss, grad_x, *(p.grad.clone() for p in model.parameters())]
    return out + [p.data for p in model.parameters()]


def test_identical_numbers_with_and_without_grad_mode() -> None:
    on, off = train_steps(True), train_steps(False)
    assert len(on) == len(off)
    assert all(torch.equal(a, b) for a, b in zip(on, off, strict=True))


def test_training_never_reaches_autograd(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("nnkit called into autograd")

    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "grad", forbidden)
    train_steps(True, steps=1)
