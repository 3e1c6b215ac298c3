"""Transforms from a timm data config: sizes, normalisation, crop_pct, train options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from clothret.datamodules.transforms import build_transform, check_train_options
from clothret.errors import ConfigError

CONFIG = {
    "input_size": (3, 64, 64),
    "mean": (0.5, 0.4, 0.3),
    "std": (0.2, 0.25, 0.3),
    "interpolation": "bilinear",
    "crop_pct": 0.8,
}
RED, BLUE = (200, 20, 20), (20, 20, 200)


def normalised(colour: tuple[int, int, int]) -> torch.Tensor:
    return (torch.tensor(colour) / 255.0 - torch.tensor(CONFIG["mean"])) / torch.tensor(
        CONFIG["std"]
    )


def framed(size: int = 100, border: int = 10) -> Image.Image:
    """A red square inside a blue frame ``border`` pixels wide."""
    pixels = np.full((size, size, 3), BLUE, np.uint8)
    pixels[border:-border, border:-border] = RED
    return Image.fromarray(pixels)


def test_eval_transform_normalises_with_the_config_mean_std() -> None:
    out = build_transform(CONFIG, train=False)(Image.new("RGB", (90, 70), RED))
    assert out.shape == (3, 64, 64) and out.dtype == torch.float32
    torch.testing.assert_close(out, normalised(RED)[:, None, None].expand(3, 64, 64))


def test_eval_centre_crop_follows_crop_pct() -> None:
    # crop_pct 0.8: resize to 80, centre-crop 64, so the 10% frame (8 px at 80) is cut away.
    out = build_transform(CONFIG, train=False)(framed())
    torch.testing.assert_close(out[:, 2:-2, 2:-2], normalised(RED)[:, None, None].expand(3, 60, 60))
    full = build_transform({**CONFIG, "crop_pct": 1.0}, train=False)(framed())
    torch.testing.assert_close(full[:, 32, 0], normalised(BLUE), atol=1e-4, rtol=0)


def test_non_square_input_size_and_int_size() -> None:
    out = build_transform({**CONFIG, "input_size": (3, 48, 32)}, train=False)(framed())
    assert out.shape == (3, 48, 32)
    assert build_transform({"input_size": 40}, train=True)(framed()).shape == (3, 40, 40)


def test_train_options_reach_timm() -> None:
    half = np.zeros((64, 64, 3), np.uint8)
    half[:, :32], half[:, 32:] = RED, BLUE
    options = {"scale": [1.0, 1.0], "ratio": [1.0, 1.0], "color_jitter": 0.0}
    flipped = build_transform(CONFIG, True, {**options, "hflip": 1.0})(Image.fromarray(half))
    kept = build_transform(CONFIG, True, {**options, "hflip": 0.0})(Image.fromarray(half))
    torch.testing.assert_close(flipped[:, 10, 5], normalised(BLUE), atol=1e-4, rtol=0)
    torch.testing.assert_close(kept[:, 10, 5], normalised(RED), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "policy", ["rand-m9-mstd0.5", "trivialaugment", "randaugment", "augmix-m5", "original"]
)
def test_auto_augment_policies_by_timm_name(policy: str) -> None:
    out = build_transform(CONFIG, True, {"auto_augment": policy})(framed())
    assert out.shape == (3, 64, 64) and torch.isfinite(out).all()


def test_trivialaugment_is_one_uniform_op() -> None:
    assert check_train_options({"auto_augment": "trivialaugment"})["auto_augment"] == (
        "rand-n1-p1.0-mstd101-inc1-mmax9"
    )


@pytest.mark.parametrize("policy", ["trivialaugment", "randaugment"])
def test_policy_survives_every_magnitude(policy: str) -> None:
    """Many seeded draws cover every op at every magnitude, including the extremes."""
    import random

    random.seed(0)
    torch.manual_seed(0)
    transform = build_transform(CONFIG, True, {"auto_augment": policy})
    image = framed()
    for _ in range(400):
        assert torch.isfinite(transform(image)).all()


def test_unknown_option_and_policy_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"'data\.train_transform\.hflp'.*Did you mean 'hflip'"):
        check_train_options({"hflp": 0.5})
    with pytest.raises(ConfigError, match=r"auto_augment' = 'bogus-m9'"):
        build_transform(CONFIG, True, {"auto_augment": "bogus-m9"})
