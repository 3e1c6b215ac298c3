"""Shop and consumer view rendering: homography, mask/box agreement, backgrounds."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from clothret.sample_data.garments import Garment
from clothret.sample_data.views import apply_homography, consumer_view, homography, shop_view

SIZE = 64


def _red_square() -> Garment:
    texture = Image.new("RGB", (SIZE, SIZE), (200, 0, 0))
    square = np.array([(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)])
    return Garment(polygons=[square], texture=texture)


def test_homography_maps_the_four_points():
    rng = np.random.default_rng(0)
    src = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    dst = src * 50 + rng.uniform(-5, 5, (4, 2)) + 10
    np.testing.assert_allclose(apply_homography(homography(src, dst), src), dst, atol=1e-9)


def test_affine_homography_matches_the_affine_formula():
    rng = np.random.default_rng(1)
    a, t = rng.normal(size=(2, 2)) + 2 * np.eye(2), rng.normal(size=2)
    src = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    h = homography(src, src @ a.T + t)
    points = rng.uniform(-2, 2, (20, 2))
    expected = np.array(
        [[a[0, 0] * x + a[0, 1] * y + t[0], a[1, 0] * x + a[1, 1] * y + t[1]] for x, y in points]
    )
    np.testing.assert_allclose(apply_homography(h, points), expected, atol=1e-9)


@pytest.mark.parametrize("render", [shop_view, consumer_view])
def test_mask_box_and_fabric_agree(render):
    for seed in range(5):
        view = render(_red_square(), np.random.default_rng(seed), SIZE)
        assert view.image.mode == "RGB" and view.image.size == (SIZE, SIZE)
        assert view.mask.mode == "L" and view.mask.size == (SIZE, SIZE)
        mask = np.asarray(view.mask) > 0
        ys, xs = np.nonzero(mask)
        extent = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert max(abs(a - b) for a, b in zip(extent, view.bbox, strict=True)) <= 1
        if render is shop_view:  # no lighting change: the red fabric sits exactly in the mask
            pixels = np.asarray(view.image, dtype=np.float64)
            inner = mask & np.roll(mask, 2, 0) & np.roll(mask, -2, 0)
            inner &= np.roll(mask, 2, 1) & np.roll(mask, -2, 1)
            red = pixels[inner]
            assert red[:, 0].mean() > 180 and red[:, 1:].mean() < 20
            assert pixels[~mask].min(axis=1).mean() > 170  # light studio background


def test_shop_view_is_centred_and_large():
    for seed in range(5):
        x1, y1, x2, y2 = shop_view(_red_square(), np.random.default_rng(seed), SIZE).bbox
        assert abs((x1 + x2) / 2 - SIZE / 2) < 0.1 * SIZE
        assert abs((y1 + y2) / 2 - SIZE / 2) < 0.1 * SIZE
        assert (x2 - x1) > 0.4 * SIZE


def test_consumer_background_is_cluttered():
    stds = []
    for seed in range(5):
        view = consumer_view(_red_square(), np.random.default_rng(seed), SIZE)
        outside = np.asarray(view.image, dtype=np.float64)[np.asarray(view.mask) == 0]
        stds.append(outside.std(axis=0).mean())
    assert min(stds) > 10


def test_views_are_deterministic_given_the_generator():
    for render in (shop_view, consumer_view):
        first = render(_red_square(), np.random.default_rng(7), SIZE)
        second = render(_red_square(), np.random.default_rng(7), SIZE)
        np.testing.assert_array_equal(np.asarray(first.image), np.asarray(second.image))
        np.testing.assert_array_equal(np.asarray(first.mask), np.asarray(second.mask))
        assert first.bbox == second.bbox and first.quality == second.quality
