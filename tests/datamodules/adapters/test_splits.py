"""Seeded item-level splits stratified by category."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clothret.datamodules.adapters.splits import allocate, check_fractions, split_items
from clothret.errors import ConfigError

FRACTIONS = {"train": 0.6, "query": 0.2, "gallery": 0.2}


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, {"train": 1, "gallery": 0, "query": 0}),
        (2, {"train": 1, "gallery": 1, "query": 0}),
        (3, {"train": 1, "gallery": 1, "query": 1}),
        (5, {"train": 3, "gallery": 1, "query": 1}),
        (10, {"train": 6, "gallery": 2, "query": 2}),
        (11, {"train": 7, "gallery": 2, "query": 2}),
    ],
)
def test_allocate_small_categories_by_priority(n: int, expected: dict[str, int]) -> None:
    assert allocate(n, FRACTIONS) == expected


@given(
    st.integers(0, 300),
    st.lists(st.integers(0, 20), min_size=5, max_size=5).filter(lambda w: sum(w) > 0),
)
def test_allocate_represents_every_split_and_rounds_the_shares(n: int, weights: list[int]) -> None:
    names = ["train", "query", "gallery", "val_query", "val_gallery"]
    fractions = {name: w / sum(weights) for name, w in zip(names, weights, strict=True)}
    counts = allocate(n, fractions)
    assert sum(counts.values()) == n
    positive = [name for name in names if fractions[name] > 0]
    assert all(counts.get(name, 0) == 0 for name in names if name not in positive)
    for name in positive:
        if n >= len(positive):  # every split with a share is represented
            assert counts[name] >= 1
        if all(fractions[p] * n >= 1 for p in positive):  # no minimum forced: rounding only
            assert abs(counts[name] - fractions[name] * n) < 1


def frame(sizes: dict[str, int]) -> pd.DataFrame:
    """Items of several images each: category c has sizes[c] items of 1 + (k % 3) images."""
    rows = [(f"{c}-{k}", c) for c, n in sizes.items() for k in range(n) for _ in range(1 + k % 3)]
    return pd.DataFrame(rows, columns=["item", "category"])


def test_items_are_never_split_and_categories_are_stratified() -> None:
    data = frame({"tee": 20, "dress": 7, "hat": 2, "belt": 1})
    split = split_items(data["item"], data["category"], FRACTIONS, seed=3)
    assert (split.groupby(data["item"]).nunique() == 1).all()
    per_item = pd.DataFrame({"item": data["item"], "category": data["category"], "split": split})
    per_item = per_item.drop_duplicates("item")
    counts = per_item.groupby(["category", "split"]).size().unstack(fill_value=0)
    assert counts.loc["tee"].to_dict() == {"train": 12, "query": 4, "gallery": 4}
    assert counts.loc["dress"].to_dict() == {"train": 4, "query": 1, "gallery": 2}  # ties: gallery
    assert counts.loc["hat"].to_dict() == {"train": 1, "query": 0, "gallery": 1}
    assert counts.loc["belt"].to_dict() == {"train": 1, "query": 0, "gallery": 0}


def test_same_seed_same_split_other_seed_other_split() -> None:
    data = frame({"tee": 30, "dress": 12})
    first = split_items(data["item"], data["category"], FRACTIONS, seed=0)
    again = split_items(data["item"].sample(frac=1.0, random_state=1).sort_index(),
                        data["category"], FRACTIONS, seed=0)  # fmt: skip
    other = split_items(data["item"], data["category"], FRACTIONS, seed=1)
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_category_split_does_not_depend_on_other_categories() -> None:
    both = frame({"tee": 30, "dress": 12})
    alone = frame({"tee": 30})
    split_both = split_items(both["item"], both["category"], FRACTIONS, seed=5)
    split_alone = split_items(alone["item"], alone["category"], FRACTIONS, seed=5)
    assert split_both[both["category"] == "tee"].tolist() == split_alone.tolist()


@pytest.mark.parametrize(
    "fractions",
    [{"train": 0.5, "query": 0.2}, {"train": 1.2, "query": -0.2}, {"training": 1.0}],
)
def test_bad_fractions_are_config_errors(fractions: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="split_fractions"):
        check_fractions(fractions)
