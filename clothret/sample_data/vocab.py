"""Categories, attribute vocabularies and the per-item attribute draw of the sample data.

An item's discrete labels (category, pattern, sleeve, length, colours) are fixed here; its
continuous shape and pattern parameters are drawn later from the same generator, so everything
about an item follows from one seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "t-shirt",
    "shirt",
    "trousers",
    "shorts",
    "dress",
    "skirt",
    "jacket",
    "shoes",
)
PATTERNS: tuple[str, ...] = ("solid", "stripes", "checks", "dots", "print")
SLEEVES: tuple[str, ...] = ("none", "short", "long")
LENGTHS: tuple[str, ...] = ("short", "knee", "long")

# Base RGB of each colour name; every item jitters its colours a little around these.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 32),
    "white": (242, 242, 236),
    "grey": (128, 128, 130),
    "red": (200, 32, 40),
    "orange": (240, 128, 30),
    "yellow": (240, 210, 50),
    "green": (40, 140, 60),
    "blue": (50, 100, 215),
    "navy": (25, 35, 95),
    "purple": (120, 50, 150),
    "pink": (240, 140, 185),
    "brown": (110, 70, 40),
    "beige": (215, 195, 155),
}
COLORS: tuple[str, ...] = tuple(PALETTE)

# Values each category can take; a category missing here has no such label (empty string).
SLEEVE_OPTIONS: dict[str, tuple[str, ...]] = {
    "t-shirt": ("none", "short", "long"),
    "shirt": ("short", "long"),
    "dress": ("none", "short", "long"),
    "jacket": ("none", "long"),
}
LENGTH_OPTIONS: dict[str, tuple[str, ...]] = {
    "trousers": ("knee", "long"),
    "shorts": ("short", "knee"),
    "skirt": ("short", "knee", "long"),
    "dress": ("short", "knee", "long"),
    "jacket": ("short", "knee", "long"),
}

# Every attribute task of the manifest (column ``attr_<task>``) and its full vocabulary.
ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "pattern": PATTERNS,
    "sleeve": SLEEVES,
    "length": LENGTHS,
    "colors": COLORS,
}


@dataclass(frozen=True)
class ItemSpec:
    """The labels of one item and the exact colours it is drawn in.

    Attributes:
        category: one of ``CATEGORIES``.
        pattern: one of ``PATTERNS``.
        sleeve: one of ``SLEEVES``, or ``""`` where the category has no sleeves.
        length: one of ``LENGTHS``, or ``""`` where the category has no length label.
        colors: colour names in palette order (1 for solid items, 2 otherwise).
        primary: RGB of the main colour (float, 0–255).
        secondary: RGB of the pattern's second colour (equal to ``primary`` for solid items).
    """

    category: str
    pattern: str
    sleeve: str
    length: str
    colors: tuple[str, ...]
    primary: tuple[float, float, float]
    secondary: tuple[float, float, float]


def _jitter(rng: np.random.Generator, name: str) -> tuple[float, float, float]:
    rgb = np.clip(np.asarray(PALETTE[name], dtype=np.float64) + rng.uniform(-12, 12, 3), 0, 255)
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def sample_spec(rng: np.random.Generator, category: str) -> ItemSpec:
    """Draw the labels and colours of one item of ``category``."""
    pattern = PATTERNS[rng.integers(len(PATTERNS))]
    sleeves = SLEEVE_OPTIONS.get(category, ("",))
    lengths = LENGTH_OPTIONS.get(category, ("",))
    sleeve = sleeves[rng.integers(len(sleeves))]
    length = lengths[rng.integers(len(lengths))]
    first, second = rng.choice(len(COLORS), size=2, replace=False)
    names = [COLORS[first]] if pattern == "solid" else [COLORS[first], COLORS[second]]
    primary = _jitter(rng, COLORS[first])
    secondary = primary if pattern == "solid" else _jitter(rng, COLORS[second])
    ordered = tuple(sorted(names, key=COLORS.index))
    return ItemSpec(category, pattern, sleeve, length, ordered, primary, secondary)
