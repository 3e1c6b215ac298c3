"""save/load: identical results after a round trip; damaged directories raise DataError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from clothret.errors import DataError
from clothret.retrieval.index import (
    BinaryIndex,
    ExactIndex,
    HierarchicalIndex,
    Index,
    IVFIndex,
    load_index,
)
from clothret.retrieval.index.store import meta_checksum

FACTORIES = {
    "exact": lambda: ExactIndex(metric="euclidean"),
    "binary": BinaryIndex,
    "hierarchical": lambda: HierarchicalIndex(candidates=40, hamming_radius=9),
    "ivf": lambda: IVFIndex(nlist=10, nprobe=3),
}


def built(kind: str) -> tuple[Index, dict]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 8)).astype(np.float32)
    codes = features @ rng.normal(size=(8, 20)) > 0
    index = FACTORIES[kind]()
    index.add(features=features, codes=codes, ids=np.arange(300) * 3)
    return index, {"features": features[:25], "codes": codes[:25], "k": 7}


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_round_trip_gives_identical_results(kind: str, tmp_path: Path) -> None:
    index, query = built(kind)
    before = index.search(**query)
    path = index.save(tmp_path / "idx")
    for loaded in (load_index(path), type(index).load(path)):
        assert type(loaded) is type(index) and len(loaded) == 300
        assert loaded.params() == index.params()
        after = loaded.search(**query)
        np.testing.assert_array_equal(before[0], after[0])
        np.testing.assert_array_equal(before[1], after[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]  # no temporary left
    meta = json.loads((path / "meta.json").read_text())
    assert meta["type"] == kind and meta["count"] == 300 and meta["clothret_version"]


def test_save_replaces_an_index_but_not_other_directories(tmp_path: Path) -> None:
    index, query = built("exact")
    path = index.save(tmp_path / "idx")
    smaller = ExactIndex(metric="euclidean")
    smaller.add(features=query["features"])
    smaller.save(path)
    assert len(load_index(path)) == 25
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")
    with pytest.raises(DataError, match="not a clothret index"):
        index.save(tmp_path / "photos")
    assert (tmp_path / "photos" / "a.jpg").exists()


def damage_truncate(path: Path) -> None:
    data = (path / "ids.npy").read_bytes()
    (path / "ids.npy").write_bytes(data[: len(data) // 2])


def damage_flip_byte(path: Path) -> None:
    target = next(p for p in path.iterdir() if p.suffix == ".faiss")
    data = bytearray(target.read_bytes())
    data[-5] ^= 0xFF
    target.write_bytes(bytes(data))


def damage_edit_json(path: Path) -> None:
    meta = json.loads((path / "meta.json").read_text())
    meta["dims"] = 9
    (path / "meta.json").write_text(json.dumps(meta))


def damage_wrong_checksum(path: Path) -> None:
    meta = json.loads((path / "meta.json").read_text())
    meta["checksum"] = "0" * 64
    (path / "meta.json").write_text(json.dumps(meta))


def damage_missing_file(path: Path) -> None:
    (path / "ids.npy").unlink()


def damage_not_json(path: Path) -> None:
    (path / "meta.json").write_text("{not json")


def damage_no_meta(path: Path) -> None:
    (path / "meta.json").unlink()


DAMAGES = {
    damage_truncate: "truncated",
    damage_flip_byte: "does not match its checksum",
    damage_edit_json: "modified or is corrupt",
    damage_wrong_checksum: "modified or is corrupt",
    damage_missing_file: "missing",
    damage_not_json: "not valid JSON",
    damage_no_meta: "no meta.json",
}


@pytest.mark.parametrize("kind", list(FACTORIES))
@pytest.mark.parametrize("damage", list(DAMAGES), ids=lambda f: f.__name__)
def test_damaged_directory_is_rejected(kind: str, damage, tmp_path: Path) -> None:
    path = built(kind)[0].save(tmp_path / "idx")
    damage(path)
    with pytest.raises(DataError, match=DAMAGES[damage]):
        load_index(path)


def test_wrong_type_and_missing_directory(tmp_path: Path) -> None:
    path = built("binary")[0].save(tmp_path / "idx")
    with pytest.raises(DataError, match="holds a 'binary' index, not 'exact'"):
        ExactIndex.load(path)
    with pytest.raises(DataError, match="does not exist"):
        load_index(tmp_path / "nowhere")


@pytest.mark.parametrize("kind", list(FACTORIES))
@pytest.mark.parametrize("field", ["shape", "count"])
def test_metadata_that_disagrees_with_the_files_is_rejected(
    kind: str, field: str, tmp_path: Path
) -> None:
    """Even with a recomputed checksum, metadata must match what the files hold."""
    path = built(kind)[0].save(tmp_path / "idx")
    meta = json.loads((path / "meta.json").read_text())
    if field == "count":
        meta["count"] += 1
    else:
        meta["dims"] = meta["dims"] and meta["dims"] + 8
        meta["bits"] = meta["bits"] and meta["bits"] + 16
    meta["checksum"] = meta_checksum(meta)
    (path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(DataError, match="metadata"):
        load_index(path)
