"""Fabric textures: solid is one colour, two-colour patterns really use both colours."""

from __future__ import annotations

import numpy as np
import pytest

from clothret.sample_data.patterns import pattern_texture

RED, BLUE = (200.0, 30.0, 40.0), (50.0, 100.0, 215.0)


def test_solid_texture_is_the_primary_colour_with_column_shading():
    for seed in range(5):
        texture = pattern_texture(np.random.default_rng(seed), "solid", RED, BLUE, 40)
        assert texture.shape == (40, 40, 3) and texture.dtype == np.float32
        assert np.ptp(texture, axis=0).max() == 0  # shading varies across columns only
        ratio = texture / np.asarray(RED, dtype=np.float32)
        np.testing.assert_allclose(ratio, ratio[..., :1].repeat(3, axis=2), rtol=1e-5)
        assert 0.9 < ratio.min() <= ratio.max() < 1.1


@pytest.mark.parametrize("pattern", ["stripes", "checks", "dots", "print"])
def test_two_colour_patterns_use_both_colours(pattern: str):
    for seed in range(10):
        texture = pattern_texture(np.random.default_rng(seed), pattern, RED, BLUE, 64)
        to_red = np.linalg.norm(texture - np.asarray(RED), axis=2)
        to_blue = np.linalg.norm(texture - np.asarray(BLUE), axis=2)
        share_blue = float(np.mean(to_blue < to_red))
        assert 0.01 < share_blue < 0.99, (pattern, seed, share_blue)


def test_unknown_pattern_is_rejected():
    with pytest.raises(ValueError, match="plaid"):
        pattern_texture(np.random.default_rng(0), "plaid", RED, BLUE, 16)
