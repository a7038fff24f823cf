"""The app's house: the shell at the top, one package a view, views meeting only in what is shared.

An AST scan (no Qt needed): views (train, denoise, inspect) never import each other nor the shell;
the shared packages (threads, widgets) import no view and no shell; nothing in denoise_gui forms an
import circle. A new flat file at the top fails until it is placed or named as part of the shell.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GUI = Path(__file__).resolve().parents[2] / "denoise_gui"
SHELL = {"__init__", "app", "main_window", "window_menus", "window_checkpoints", "settings", "help", "paths",
         "qt_platform", "pyside_fix", "status_bar", "drop_overlay", "bench_stall"}
VIEWS = {"train", "denoise", "inspect"}
SHARED = {"threads", "widgets"}


def module_name(path: Path) -> str:
    parts = path.relative_to(GUI.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str) -> bool:
    return (GUI.parent / dotted.replace(".", "/")).with_suffix(".py").is_file()


def gui_imports(path: Path) -> set[str]:
    """The denoise_gui modules a file imports (`from denoise_gui.x import y` counts y if it is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("denoise_gui")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("denoise_gui"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if is_module(f"{node.module}.{a.name}")}
    return found


def group(module: str) -> str:
    """'train' for denoise_gui.train.view, 'shell' for denoise_gui.app, '' for the package itself."""
    parts = module.split(".")
    if len(parts) == 1:
        return ""
    return parts[1] if parts[1] in VIEWS | SHARED else "shell"


GRAPH = {module_name(p): gui_imports(p) for p in sorted(GUI.rglob("*.py"))}


def test_the_top_level_holds_only_the_shell() -> None:
    top = {p.stem for p in GUI.glob("*.py")}
    assert top == SHELL, f"place {sorted(top - SHELL)} in a view's package or widgets/threads"
    assert {p.name for p in GUI.iterdir() if p.is_dir() and (p / "__init__.py").is_file()} == VIEWS | SHARED


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if group(m) in VIEWS | SHARED))
def test_views_meet_only_in_what_is_shared(module: str) -> None:
    own = group(module)
    allowed = {own, ""} | (SHARED if own in VIEWS else {own})
    crossing = sorted(i for i in GRAPH[module] if group(i) not in allowed)
    assert not crossing, f"{module} imports {crossing}: move what both need to threads/ or widgets/"


def test_no_import_circle_in_the_app() -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(i for i in GRAPH.get(module, ()) if i in GRAPH):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join([*path[path.index(nxt):], nxt]))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = 2

    for module in GRAPH:
        if module not in state:
            visit(module, [module])


def test_the_scan_sees_a_crossing() -> None:
    """The rule can fail: the Denoise view's worker reaching into the Train view would be caught."""
    assert "denoise_gui.threads.train_worker" in GRAPH["denoise_gui.denoise.self_train"]
    assert group("denoise_gui.train.run_table") not in {"denoise", ""} | SHARED
