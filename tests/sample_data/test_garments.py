"""Garment outlines: every option builds, fits the unit square, and its labels are visible."""

from __future__ import annotations

import itertools

import numpy as np
from PIL import Image, ImageDraw

from clothret.sample_data.garments import BUILDERS, build_garment
from clothret.sample_data.vocab import ItemSpec

SLEEVES = {
    "t-shirt": ["none", "short", "long"],
    "shirt": ["short", "long"],
    "dress": ["none", "short", "long"],
    "jacket": ["none", "long"],
}
LENGTHS = {
    "trousers": ["knee", "long"],
    "shorts": ["short", "knee"],
    "skirt": ["short", "knee", "long"],
    "dress": ["short", "knee", "long"],
    "jacket": ["short", "knee", "long"],
}
ALL = ["t-shirt", "shirt", "trousers", "shorts", "dress", "skirt", "jacket", "shoes"]


def _spec(category: str, sleeve: str = "", length: str = "") -> ItemSpec:
    return ItemSpec(
        category, "stripes", sleeve, length, ("red", "blue"), (200.0, 30, 40), (50.0, 100, 215)
    )


def _raster_area(polygons: list[np.ndarray], scale: float = 200.0) -> int:
    canvas = Image.new("L", (int(3 * scale), int(3 * scale)), 0)
    draw = ImageDraw.Draw(canvas)
    for poly in polygons:
        draw.polygon([tuple(p) for p in ((poly + 1) * scale).tolist()], fill=1)
    return int(np.asarray(canvas).sum())


def test_every_option_fits_the_unit_square():
    for category in ALL:
        options = itertools.product(SLEEVES.get(category, [""]), LENGTHS.get(category, [""]))
        for (sleeve, length), seed in itertools.product(options, range(3)):
            garment = build_garment(
                _spec(category, sleeve, length), np.random.default_rng(seed), 32
            )
            points = np.concatenate(garment.polygons)
            assert np.isfinite(points).all()
            low, high = points.min(axis=0), points.max(axis=0)
            assert abs(max(high - low) - 0.9) < 1e-9
            np.testing.assert_allclose((low + high) / 2, [0.5, 0.5], atol=1e-9)
            assert garment.texture.mode == "RGB" and garment.texture.size == (32, 32)


def test_longer_length_gives_a_taller_silhouette():
    for category, lengths in LENGTHS.items():
        for sleeve, seed in itertools.product(SLEEVES.get(category, [""]), range(40)):
            aspects = []
            for length in lengths:
                outline = BUILDERS[category](
                    _spec(category, sleeve, length), np.random.default_rng(seed)
                )
                extent = np.ptp(np.concatenate(outline.polygons), axis=0)
                aspects.append(extent[1] / extent[0])
            assert aspects == sorted(aspects), (category, sleeve, seed, aspects)


def test_longer_sleeves_add_fabric():
    for category, sleeves in SLEEVES.items():
        length = "knee" if category in LENGTHS else ""
        for seed in range(40):
            areas = [
                _raster_area(
                    BUILDERS[category](
                        _spec(category, sleeve, length), np.random.default_rng(seed)
                    ).polygons
                )
                for sleeve in sleeves
            ]
            assert areas == sorted(areas) and len(set(areas)) == len(areas), (category, seed)


def test_shoes_are_a_pair_side_by_side():
    for seed in range(10):
        polygons = BUILDERS["shoes"](_spec("shoes"), np.random.default_rng(seed)).polygons
        assert len(polygons) == 2
        (top_low, top_high), (bottom_low, _) = [(p[:, 1].min(), p[:, 1].max()) for p in polygons]
        assert bottom_low > top_high > top_low
