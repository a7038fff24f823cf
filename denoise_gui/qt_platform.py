"""Before Qt starts: can its platform plugin load? If not, say which system libraries are missing.

When a shared library that Qt's xcb plugin links against is absent (a fresh Debian/Ubuntu desktop
often lacks libxcb-icccm4 or libxcb-keysyms1), Qt aborts with "xcb-cursor0 or libxcb-cursor0 is
needed", whatever is really missing. ``platform_problem`` checks the plugin itself first: it asks
``ldd`` which of the plugin's libraries the loader cannot find (or, without ldd, loads the plugin
with ctypes and reads the name from the loader's error), and names them with the Debian/Ubuntu
packages that hold them.
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# What Qt's xcb plugin (PySide6 6.x) needs beyond a base system, found with ldd on the plugin and
# its Qt libraries on Debian 12 (the apt-get line of docs/app.md, "System libraries"; tests check the two agree).
APT_PACKAGES = (
    "libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 libx11-xcb1 libxkbcommon-x11-0 "
    "libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1"
)
# Libraries whose Debian package does not follow the soname rule (see debian_package).
_PACKAGE_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0"}
_MISSING_FROM_LOADER = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package of a library by the naming policy: libxcb-icccm.so.4 -> libxcb-icccm4."""
    if soname in _PACKAGE_EXCEPTIONS:
        return _PACKAGE_EXCEPTIONS[soname]
    match = re.fullmatch(r"(.+?)\.so\.(\d+).*", soname)
    if match is None:
        return soname
    stem, major = match.group(1).lower(), match.group(2)
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def candidate_platforms(argv: Sequence[str], env: Mapping[str, str], system: str = sys.platform) -> list[str]:
    """The platform plugins Qt will try, in order (``-platform``, QT_QPA_PLATFORM, else Qt's Linux default)."""
    chosen = env.get("QT_QPA_PLATFORM", "")
    for i, arg in enumerate(argv):
        if arg == "-platform" and i + 1 < len(argv):
            chosen = argv[i + 1]
    if chosen:
        return [name.split(":")[0] for name in chosen.split(";") if name]
    if not system.startswith("linux"):
        return []
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    return ["wayland", "xcb"] if wayland else ["xcb"]


def plugin_path(platform: str, plugins_dir: Path | None = None) -> Path:
    """Where Qt's plugin for ``platform`` lives (PySide6's own plugins folder by default)."""
    if plugins_dir is None:
        from PySide6.QtCore import QLibraryInfo

        plugins_dir = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    return plugins_dir / "platforms" / f"libq{platform}.so"


def missing_libraries(
    plugin: Path, run: Runner = subprocess.run, load: Callable[[str], object] = ctypes.CDLL
) -> list[str] | None:
    """Libraries ``plugin`` needs that the loader cannot find ([] if none); None if it could not tell."""
    try:
        proc = run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        proc = None
    if proc is not None and proc.returncode == 0:
        names = [line.split("=>")[0].strip() for line in proc.stdout.splitlines() if "not found" in line]
        return sorted(set(names))
    try:  # no ldd: let the loader try, and read the first missing name from its error
        load(str(plugin))
    except OSError as exc:
        found = _MISSING_FROM_LOADER.search(str(exc))
        return [found.group(1)] if found and Path(found.group(1)).name != plugin.name else None
    return []


def platform_problem(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    plugins_dir: Path | None = None,
    run: Runner = subprocess.run,
    load: Callable[[str], object] = ctypes.CDLL,
    system: str = sys.platform,
) -> str | None:
    """A message naming the missing libraries if no platform plugin Qt will try can load; None if one can."""
    env = os.environ if env is None else env
    reports = []
    for platform in candidate_platforms(argv, env, system):
        plugin = plugin_path(platform, plugins_dir)
        if not plugin.is_file():
            return None  # not a plugin file we can check (another Qt, a static build): let Qt decide
        missing = missing_libraries(plugin, run, load)
        if not missing:
            return None  # it can load (or we cannot tell): let Qt try
        reports.append((platform, plugin, missing))
    if not reports:
        return None
    lines = []
    for platform, plugin, missing in reports:
        packages = " ".join(dict.fromkeys(debian_package(name) for name in missing))
        lines += [
            f"denoise-gui: Qt's {platform!r} platform plugin cannot load: these system libraries are missing:",
            f"  {', '.join(missing)}   (needed by {plugin})",
            "On Debian/Ubuntu:",
            f"  sudo apt-get install {packages}",
        ]
    lines += [
        "Everything the app needs (as in docs/app.md, System libraries):",
        f"  sudo apt-get install {APT_PACKAGES}",
        "Or run without a display: QT_QPA_PLATFORM=offscreen denoise-gui",
    ]
    return "\n".join(lines)
