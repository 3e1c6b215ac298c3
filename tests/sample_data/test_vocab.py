"""Per-item label draws: values, applicability, colour counts and colour values."""

from __future__ import annotations

import numpy as np

from clothret.sample_data.vocab import PALETTE, sample_spec

SLEEVES = {
    "t-shirt": {"none", "short", "long"},
    "shirt": {"short", "long"},
    "dress": {"none", "short", "long"},
    "jacket": {"none", "long"},
}
LENGTHS = {
    "trousers": {"knee", "long"},
    "shorts": {"short", "knee"},
    "skirt": {"short", "knee", "long"},
    "dress": {"short", "knee", "long"},
    "jacket": {"short", "knee", "long"},
}
ALL = ["t-shirt", "shirt", "trousers", "shorts", "dress", "skirt", "jacket", "shoes"]
PATTERNS = {"solid", "stripes", "checks", "dots", "print"}


def _near(rgb: tuple[float, float, float], name: str) -> bool:
    return bool(np.all(np.abs(np.asarray(rgb) - np.asarray(PALETTE[name])) <= 12 + 1e-9))


def test_labels_cover_their_vocabularies_and_nothing_else():
    for category in ALL:
        specs = [sample_spec(np.random.default_rng([seed, 9]), category) for seed in range(300)]
        assert {s.pattern for s in specs} == PATTERNS
        assert {s.sleeve for s in specs} == SLEEVES.get(category, {""})
        assert {s.length for s in specs} == LENGTHS.get(category, {""})
        assert {s.category for s in specs} == {category}


def test_colour_names_match_the_drawn_colours():
    names = list(PALETTE)
    for seed in range(300):
        spec = sample_spec(np.random.default_rng(seed), "shirt")
        assert list(spec.colors) == sorted(spec.colors, key=names.index)
        if spec.pattern == "solid":
            assert len(spec.colors) == 1 and spec.secondary == spec.primary
            assert _near(spec.primary, spec.colors[0])
        else:
            first, second = spec.colors
            assert first != second
            assert (_near(spec.primary, first) and _near(spec.secondary, second)) or (
                _near(spec.primary, second) and _near(spec.secondary, first)
            )
