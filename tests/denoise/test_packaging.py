"""The wheel a non-editable install gets: the top-level assets/ ride along, no top-level bench."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (found,) = out.glob("*.whl")
    return found


def test_wheel_has_the_assets_and_no_top_level_bench(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"nnkit", "denoise_gui"}
    shipped = {n.removeprefix("nnkit/denoise/assets/") for n in names if n.startswith("nnkit/denoise/assets/")}
    in_checkout = {str(p.relative_to(ROOT / "assets")) for p in (ROOT / "assets").rglob("*") if p.is_file()}
    assert in_checkout <= shipped  # every photo, the licences and the shipped checkpoint
    assert "nnkit/denoise/bench/step.py" in names
    assert "denoise_gui/train/view.py" in names  # the app's subpackages ship too


def test_installed_copy_finds_its_assets(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT, PHOTOS_DIR; "
        "print(SHIPPED_CHECKPOINT.is_file(), len(list(PHOTOS_DIR.glob('*.png'))), SHIPPED_CHECKPOINT)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    is_file, photos, where = result.stdout.split()
    assert is_file == "True" and int(photos) >= 6
    assert Path(where).is_relative_to(target)  # the installed copy, not this checkout
