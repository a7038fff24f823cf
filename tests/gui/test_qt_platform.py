"""The check before Qt starts: missing system libraries of the platform plugin, named (with fakes, no display)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import denoise_gui.app as app_module
from denoise_gui.qt_platform import (
    APT_PACKAGES,
    candidate_platforms,
    debian_package,
    missing_libraries,
    platform_problem,
)

README = Path(__file__).resolve().parents[2] / "docs" / "app.md"  # its "System libraries" section

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffc6d5f4000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f5f1a000000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f5f19ff0000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5f19c00000)
"""
LDD_COMPLETE = "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f5f19f00000)\n"


def fake_ldd(outputs: dict[str, str]):
    """A subprocess.run stand-in answering `ldd PLUGIN` with the text given for the plugin's file name."""

    def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert cmd[0] == "ldd"
        return subprocess.CompletedProcess(cmd, 0, stdout=outputs[Path(cmd[1]).name], stderr="")

    return run


def no_ldd(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    raise FileNotFoundError(2, "No such file or directory", "ldd")


def never_load(path: str) -> object:
    raise AssertionError("ldd answered: the plugin is not loaded")


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    platforms = tmp_path / "platforms"
    platforms.mkdir()
    for name in ("xcb", "wayland", "offscreen"):
        (platforms / f"libq{name}.so").write_bytes(b"\x7fELF")
    return tmp_path


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_names(soname: str, package: str) -> None:
    assert debian_package(soname) == package


def test_the_platforms_qt_will_try() -> None:
    assert candidate_platforms([], {}, "linux") == ["xcb"]
    assert candidate_platforms([], {"WAYLAND_DISPLAY": "wayland-0"}, "linux") == ["wayland", "xcb"]
    assert candidate_platforms([], {"QT_QPA_PLATFORM": "offscreen"}, "linux") == ["offscreen"]
    assert candidate_platforms([], {"QT_QPA_PLATFORM": "wayland;xcb"}, "linux") == ["wayland", "xcb"]
    assert candidate_platforms(["-platform", "xcb:nomitshm"], {"QT_QPA_PLATFORM": "offscreen"}, "linux") == ["xcb"]
    assert candidate_platforms([], {}, "win32") == []


def test_ldd_output_gives_the_missing_libraries(plugins: Path) -> None:
    plugin = plugins / "platforms" / "libqxcb.so"
    run = fake_ldd({"libqxcb.so": LDD_MISSING})
    assert missing_libraries(plugin, run, never_load) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries(plugin, fake_ldd({"libqxcb.so": LDD_COMPLETE}), never_load) == []


def test_without_ldd_the_loader_names_the_first_missing_library(plugins: Path) -> None:
    plugin = plugins / "platforms" / "libqxcb.so"

    def load(path: str) -> object:
        raise OSError("libxcb-icccm.so.4: cannot open shared object file: No such file or directory")

    assert missing_libraries(plugin, no_ldd, load) == ["libxcb-icccm.so.4"]
    assert missing_libraries(plugin, no_ldd, lambda path: object()) == []

    def broken(path: str) -> object:
        raise OSError(f"{path}: invalid ELF header")

    assert missing_libraries(plugin, no_ldd, broken) is None  # cannot tell: Qt decides


def test_the_message_names_the_libraries_and_the_packages(plugins: Path) -> None:
    run = fake_ldd({"libqxcb.so": LDD_MISSING})
    message = platform_problem([], {}, plugins_dir=plugins, run=run, load=never_load, system="linux")
    assert message is not None
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert f"sudo apt-get install {APT_PACKAGES}" in message
    assert "xcb-cursor0" not in message.split("Everything")[0]  # not Qt's misleading guess


def test_no_message_when_a_plugin_qt_tries_can_load(plugins: Path) -> None:
    outputs = {"libqxcb.so": LDD_MISSING, "libqwayland.so": LDD_COMPLETE, "libqoffscreen.so": LDD_COMPLETE}
    run = fake_ldd(outputs)
    wayland = {"WAYLAND_DISPLAY": "wayland-0"}
    assert platform_problem([], wayland, plugins_dir=plugins, run=run, load=never_load, system="linux") is None
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    assert platform_problem([], offscreen, plugins_dir=plugins, run=run, load=never_load, system="linux") is None
    vnc = {"QT_QPA_PLATFORM": "vnc"}  # no such plugin file here: nothing to check, Qt decides
    assert platform_problem([], vnc, plugins_dir=plugins, run=run, load=never_load, system="linux") is None


def test_app_prints_the_message_and_exits_before_qt(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    class NoApplication:
        @staticmethod
        def instance() -> None:
            return None

    def make_app(argv: object) -> None:
        raise AssertionError("Qt must not be started when its platform plugin cannot load")

    monkeypatch.setattr(app_module, "QApplication", NoApplication)
    monkeypatch.setattr(app_module, "make_app", make_app)
    monkeypatch.setattr(app_module, "platform_problem", lambda argv: "denoise-gui: libxcb-icccm.so.4 is missing")
    assert app_module.main(["denoise-gui"]) == 1
    assert "libxcb-icccm.so.4 is missing" in capsys.readouterr().err


def test_readme_lists_the_same_packages() -> None:
    assert f"apt-get install {APT_PACKAGES}" in README.read_text(encoding="utf-8")
