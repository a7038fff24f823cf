"""GUI test fixtures: garbage collected on the GUI thread only, a temporary settings file, a tiny checkpoint,
a window factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from denoise_gui.main_window import MainWindow
from denoise_gui.settings import AppSettings
from denoise_gui.threads.gc_on_gui_thread import GuiThreadCollector, collect_on_gui_thread
from nnkit.denoise.config import RunConfig

# Small enough for a CPU test: a couple of seconds per epoch.
TINY = RunConfig(arch="report", width=4, epochs=2, epoch_size=32, crop_size=16, batch_size=8, device="cpu")


class CollectAfterEachTest:
    """A plugin: the collector's pass after every test of the session, GUI or not (pytest's thread is the GUI
    thread), so that tests outside tests/gui in the same process, where no event loop runs the collector's
    timer, still have their cycles collected."""

    def __init__(self, collector: GuiThreadCollector) -> None:
        self.collector = collector

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        self.collector.check()


@pytest.fixture(scope="session", autouse=True)
def gui_thread_gc(qapp: Any, pytestconfig: pytest.Config) -> Iterator[GuiThreadCollector]:
    """As in the app: cyclic garbage (Qt objects in it) collected on the GUI thread only, never on a worker's
    (a worker's collection froze the one-process suite, issue 19)."""
    with collect_on_gui_thread() as collector:
        plugin = CollectAfterEachTest(collector)
        pytestconfig.pluginmanager.register(plugin, "gui-thread-gc")
        try:
            yield collector
        finally:
            pytestconfig.pluginmanager.unregister(plugin)


@pytest.fixture(autouse=True)
def no_collection_on_a_worker_thread(gui_thread_gc: GuiThreadCollector) -> Iterator[None]:
    """Fail a test during which some thread other than the GUI's ran the cyclic collector (gc.collect())."""
    before = gui_thread_gc.off_thread_collections
    yield
    assert gui_thread_gc.off_thread_collections == before, "a worker thread ran gc.collect(): Qt objects may die there"


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    """Settings in a temporary ini file, so tests never share or pollute the user's."""
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A checkpoint of an untrained width-4 report net (fast to denoise with)."""
    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.models import build_model

    config = RunConfig(arch="report", width=4, device="cpu")
    model = build_model(config)
    return save_checkpoint(
        tmp_path / "tiny.safetensors", weights=model.state_dict(), optimizer_state=None, config=config,
        epoch=3, step=12, best_psnr=21.5,
    )


@pytest.fixture
def make_window(qtbot: Any, settings: AppSettings, tmp_path: Path) -> Callable[..., MainWindow]:
    """Build a MainWindow with temporary settings and runs folder (closed at teardown)."""

    def make(**kwargs: Any) -> MainWindow:
        kwargs.setdefault("checkpoint", None)
        kwargs.setdefault("runs_dir", tmp_path / "runs")
        window = MainWindow(settings, **kwargs)
        qtbot.addWidget(window)
        window.show()
        return window

    return make


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small PNG photo."""
    from nnkit.denoise.imageio import write_image

    rng = np.random.default_rng(0)
    image = (np.linspace(0, 255, 48)[None, :, None] * np.ones((40, 48, 3)) + rng.normal(0, 20, (40, 48, 3)))
    return write_image(tmp_path / "photo.png", np.clip(image, 0, 255).astype(np.uint8))
