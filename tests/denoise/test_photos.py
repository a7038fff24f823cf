"""The photo corpus: every shipped photo licensed, the split disjoint and complete, the API."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from nnkit.denoise.data import (
    PHOTOS_DIR,
    TEST_PHOTOS,
    TRAIN_PHOTOS,
    VAL_PHOTOS,
    DataError,
    builtin_photos,
    corpus_photos,
    corpus_splits,
)
from nnkit.denoise.data import photos as photos_module

LICENCES = (PHOTOS_DIR.parent / "LICENSES.md").read_text(encoding="utf-8")
FREE = re.compile(r"^(Public domain.*|CC0 1\.0|CC BY [1-4]\.0)$")


def _licence_rows() -> dict[str, list[str]]:
    """File name -> the cells of its row in the photo table of LICENSES.md."""
    rows = {}
    for line in LICENCES.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and re.fullmatch(r"`[\w.-]+\.png`", cells[0]):
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_shipped_photo_has_a_free_licence_author_and_source() -> None:
    rows = _licence_rows()
    files = sorted(p.name for p in PHOTOS_DIR.iterdir() if p.suffix != ".json")
    missing = [f for f in files if f not in rows]
    assert not missing, f"photos without a row in assets/LICENSES.md: {missing}"
    assert not set(rows) - set(files), "LICENSES.md lists photos that are not shipped"
    for name, (_, split, _size, subject, author, licence, came_from, published) in rows.items():
        assert FREE.match(licence), f"{name}: licence {licence!r} is not public domain, CC0 or CC BY"
        assert author and subject and came_from and published, name
        assert split in ("train", "val", "test"), name


def test_split_is_disjoint_covers_every_photo_and_matches_the_licence_table() -> None:
    splits = json.loads((PHOTOS_DIR / "splits.json").read_text(encoding="utf-8"))
    assert set(splits) == {"train", "val", "test"}
    names = [n for s in splits.values() for n in s]
    assert len(names) == len(set(names)), "a photo is in two splits"
    assert {f"{n}.png" for n in names} == {p.name for p in PHOTOS_DIR.glob("*.png")}
    assert tuple(tuple(splits[s]) for s in ("train", "val", "test")) == (TRAIN_PHOTOS, VAL_PHOTOS, TEST_PHOTOS)
    for name, cells in _licence_rows().items():
        assert name[:-4] in splits[cells[1]], f"{name}: LICENSES.md says split {cells[1]}"
    assert len(names) >= 40 and len(TEST_PHOTOS) >= 8 and len(VAL_PHOTOS) >= 4
    assert {"chelsea", "rocket"} <= set(VAL_PHOTOS)  # the shipped checkpoint was chosen on them: never test


def test_corpus_is_small_rgb_and_read_only() -> None:
    assert sum(p.stat().st_size for p in PHOTOS_DIR.iterdir()) < 15_000_000
    for split in ("train", "val", "test"):
        photos = corpus_photos(split)
        assert [n for n, _ in photos] == list(corpus_splits()[split])
        for name, array in photos:
            assert array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] == 3, name
            assert min(array.shape[:2]) >= 200 and max(array.shape[:2]) <= 1024, name
            assert not array.flags.writeable
    assert builtin_photos("val") == corpus_photos("val")
    with pytest.raises(ValueError, match="split"):
        corpus_photos("all")


def test_a_bad_split_file_is_named(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "splits.json"
    monkeypatch.setattr(photos_module, "SPLITS_FILE", bad)
    for text, message in [
        ("{not json", "cannot read"),
        ('{"train": [], "val": []}', "must map exactly"),
        ('{"train": ["a"], "val": ["a"], "test": []}', "both the train and val"),
    ]:
        bad.write_text(text)
        photos_module.corpus_splits.cache_clear()
        try:
            with pytest.raises(DataError, match=message) as info:
                photos_module.corpus_splits()
            assert "splits.json" in str(info.value)
        finally:
            photos_module.corpus_splits.cache_clear()
