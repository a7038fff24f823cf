"""Saved images and checkpoints get ordinary file permissions (not mkstemp's owner-only 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from nnkit.denoise.imageio import write_image
from nnkit.denoise.tempfiles import new_file_mode, temp_file_beside
from tests.denoise.test_checkpoint import write

posix_only = pytest.mark.skipif(not hasattr(os, "fchmod"), reason="POSIX permissions")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _plain_file_mode(folder: Path) -> int:
    plain = folder / "plain.txt"
    plain.write_text("x")
    return _mode(plain)


def test_new_file_mode_is_what_open_gives(tmp_path: Path) -> None:
    assert new_file_mode() == _plain_file_mode(tmp_path)


@posix_only
def test_saved_image_and_checkpoint_have_the_mode_of_a_plain_file(tmp_path: Path) -> None:
    expected = _plain_file_mode(tmp_path)
    if not expected & stat.S_IRGRP:
        pytest.skip("this umask keeps new files private: 0600 would be right, nothing to tell apart")
    image = write_image(tmp_path / "out.png", np.zeros((4, 5, 3), np.uint8))
    checkpoint = write(tmp_path)
    assert _mode(image) == expected
    assert _mode(checkpoint) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "plain.txt", "run.safetensors"]  # no leftovers


def test_temp_file_is_hidden_beside_the_target(tmp_path: Path) -> None:
    fd, tmp = temp_file_beside(tmp_path / "photo.png")
    os.close(fd)
    assert tmp.parent == tmp_path and tmp.name.startswith(".photo.png.") and tmp.name.endswith(".tmp")
