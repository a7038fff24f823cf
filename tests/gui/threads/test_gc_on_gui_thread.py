"""Cyclic garbage is collected on the GUI thread only: the issue-19 freeze, and the collector's rules."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest

from denoise_gui.threads import gc_on_gui_thread
from denoise_gui.threads.gc_on_gui_thread import GuiThreadCollector, collect_on_gui_thread, installed

SCENARIO = Path(__file__).with_name("gc_deadlock_scenario.py")
ROOT = Path(__file__).resolve().parents[3]


class Cycle:
    def __init__(self) -> None:
        self.myself = self


def test_the_freeze_scenario_finishes_with_collection_on_the_gui_thread() -> None:
    """Before the fix the same script deadlocks within seconds (see the script, --unprotected)."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=path)
    try:
        proc = subprocess.run([sys.executable, str(SCENARIO), "--seconds", "6", "--hang-after", "90"], env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the scenario hung: {exc.stderr!r}")
    assert proc.returncode == 0, f"deadlock or crash (status {proc.returncode}):\n{proc.stderr[-3000:]}"
    assert "ok: 0 collections on the worker thread" in proc.stdout


def test_the_gui_tests_run_under_the_collector() -> None:
    collector = installed()
    assert collector is not None and not gc.isenabled()
    assert collector.thread_id == threading.main_thread().ident


def test_cycles_are_collected_by_the_gui_thread_timer(qtbot: Any) -> None:
    collector = installed()
    assert collector is not None
    collected_on: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["collected"]:
            collected_on.append(threading.current_thread().name)

    gc.callbacks.append(watch)
    try:
        probe = Cycle()
        dead = weakref.ref(probe)
        del probe
        litter = [Cycle() for _ in range(2 * gc.get_threshold()[0])]  # crosses the gen-0 threshold
        del litter
        assert dead() is not None  # nothing collects by itself: automatic collection is off
        qtbot.waitUntil(lambda: dead() is None, timeout=5000)
    finally:
        gc.callbacks.remove(watch)
    assert set(collected_on) == {threading.main_thread().name}


def test_a_worker_thread_allocating_never_collects() -> None:
    collector = installed()
    assert collector is not None
    before = collector.off_thread_collections
    seen: list[str] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(threading.current_thread().name)

    def allocate() -> None:
        kept = [Cycle() for _ in range(50 * gc.get_threshold()[0])]
        del kept

    gc.callbacks.append(watch)
    try:
        worker = threading.Thread(target=allocate, name="allocating")
        worker.start()
        worker.join()
    finally:
        gc.callbacks.remove(watch)
    assert "allocating" not in seen and collector.off_thread_collections == before


def test_an_explicit_collection_on_a_worker_is_counted_and_re_enabling_is_undone(qtbot: Any) -> None:
    collector = installed()
    assert collector is not None
    before, reenabled = collector.off_thread_collections, collector.reenabled
    worker = threading.Thread(target=gc.collect, args=(0,))
    worker.start()
    worker.join()
    assert collector.off_thread_collections == before + 1
    collector.off_thread_collections = before  # deliberate here: the per-test check must not fail
    gc.enable()
    qtbot.waitUntil(lambda: not gc.isenabled(), timeout=5000)
    assert collector.reenabled == reenabled + 1


def test_installs_nest_and_the_outermost_restores_automatic_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gc_on_gui_thread, "_installed", [])  # as if no session collector were installed
    gc.enable()
    try:
        with collect_on_gui_thread() as outer:
            assert not gc.isenabled() and installed() is outer
            with collect_on_gui_thread() as inner:
                assert inner is outer
            assert not gc.isenabled() and installed() is outer
        assert gc.isenabled() and installed() is None
        assert not outer.timer.isActive() and outer._watch not in gc.callbacks
    finally:
        gc.disable()  # the session's collector is in charge again


def test_a_collector_honours_the_generation_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gen 0 at every tick (its count, allocations minus frees, can read 0 with cycles waiting); the older
    generations when CPython's thresholds say so."""
    collector = installed()
    assert isinstance(collector, GuiThreadCollector)
    asked: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: asked.append(generation) or 0)
    _, t1, t2 = collector.thresholds
    for counts, expected in [((0, 0, 0), [0]), ((5000, t1, 0), [0]), ((0, t1 + 1, t2), [1]),
                             ((0, t1 + 1, t2 + 1), [2]), ((0, 0, t2 + 1), [0])]:
        asked.clear()
        monkeypatch.setattr(gc, "get_count", lambda counts=counts: counts)
        collector.check()
        assert asked == expected, counts


def test_every_test_of_the_session_ends_with_a_collection_on_this_thread(pytestconfig: pytest.Config) -> None:
    """Tests outside tests/gui run no event loop (no timer tick): the plugin collects after each of them."""
    plugin = pytestconfig.pluginmanager.get_plugin("gui-thread-gc")
    assert plugin is not None and plugin.collector is installed()
