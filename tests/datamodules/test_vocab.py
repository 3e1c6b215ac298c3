"""Label vocabularies: ids, multi-hot encoding, unknown labels, label counts, JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clothret.datamodules.vocab import MISSING, UNKNOWN, Vocab
from clothret.errors import DataError

TRAIN = pd.DataFrame(
    {
        "category": ["shirt", "dress", "shirt", "coat"],
        "attr_color": ["red", "blue|red", "", "NA"],
        "attr_sleeve": ["long", "", "", "short"],
    }
)


def test_vocab_from_training_rows() -> None:
    vocab = Vocab.from_frame(TRAIN)
    assert vocab.categories == ["coat", "dress", "shirt"]
    assert vocab.attributes == {"color": ["NA", "blue", "red"], "sleeve": ["long", "short"]}
    assert vocab.attribute_dims == {"color": 3, "sleeve": 2}
    # positive labels per task, counted by hand: red, blue, red, NA / long, short
    assert vocab.label_counts == {"color": 4, "sleeve": 2}


def test_category_ids_and_unknown_category() -> None:
    vocab = Vocab.from_frame(TRAIN)
    ids, unknown = vocab.encode_categories(["shirt", "hat", "coat", "hat", "belt"])
    # unknown names get negative ids in sorted order: belt -1, hat -2 (same name, same id)
    assert ids.tolist() == [2, -2, 0, -2, -1]
    assert UNKNOWN == -1
    assert unknown == {"hat": 2, "belt": 1}


def test_multi_hot_with_missing_rows_and_unknown_values() -> None:
    vocab = Vocab.from_frame(TRAIN)
    cells = ["red", "blue|red", "", "NA", "green", "green|blue"]
    rows, unknown = vocab.encode_attributes("color", cells)
    expected = np.array(
        [
            [0, 0, 1],
            [0, 1, 1],
            [MISSING] * 3,  # empty cell: label missing
            [1, 0, 0],  # "NA" is a value
            [MISSING] * 3,  # only an unknown value: missing, not "none of them"
            [0, 1, 0],  # the known value is kept
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(rows, expected)
    assert unknown == {"green": 2}


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    vocab = Vocab.from_frame(TRAIN)
    path = vocab.save(tmp_path / "run" / "vocab.json")
    assert json.loads(path.read_text())["categories"] == ["coat", "dress", "shirt"]
    loaded = Vocab.load(path)
    assert loaded == vocab
    assert loaded.encode_categories(["dress"])[0].tolist() == [1]
    assert not list(path.parent.glob("*.tmp"))


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Vocabulary file not found"):
        Vocab.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        Vocab.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"labels": []}')
    with pytest.raises(DataError, match="Not a clothret vocabulary"):
        Vocab.load(tmp_path / "other.json")


def test_empty_training_split_is_an_error() -> None:
    with pytest.raises(DataError, match="training split is empty"):
        Vocab.from_frame(TRAIN.iloc[:0])
