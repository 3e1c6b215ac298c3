"""Image transforms from the backbone's timm data config, through timm's transform factory.

Evaluation: resize + centre crop per the data config (``crop_pct``, ``crop_mode``). Training:
random resized crop, flips, colour jitter and optional RandAugment / TrivialAugment / AutoAugment
named as timm names them (``rand-m9-mstd0.5``, ``augmix-m5``, ``original``), plus random erasing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, create_transform

from clothret.errors import ConfigError
from clothret.registry import did_you_mean

# Used when no backbone data config is given (tests, tools that only decode).
DEFAULT_DATA_CONFIG: dict[str, Any] = {
    "input_size": (3, 224, 224),
    "interpolation": "bicubic",
    "mean": IMAGENET_DEFAULT_MEAN,
    "std": IMAGENET_DEFAULT_STD,
    "crop_pct": 0.875,
    "crop_mode": "center",
}

# Clothing must stay recognisable after cropping, hence a milder scale than ImageNet's 0.08.
TRAIN_DEFAULTS: dict[str, Any] = {
    "scale": (0.5, 1.0),
    "ratio": (3 / 4, 4 / 3),
    "hflip": 0.5,
    "vflip": 0.0,
    "color_jitter": 0.2,
    "auto_augment": None,
    "re_prob": 0.0,
    "no_aug": False,
}

# Short names for timm policy strings. TrivialAugment = one op per image (n1, p1.0) at a
# magnitude drawn uniformly (timm samples uniformly when mstd > 100), with ops that grow more
# severe with magnitude (inc1, as TrivialAugmentWide). mmax9 keeps the magnitude below 10,
# where posterize would keep 0 bits, which Pillow rejects (a crash on ~2% of images otherwise).
AUTO_AUGMENT_ALIASES = {
    "randaugment": "rand-m9-mstd0.5",
    "trivialaugment": "rand-n1-p1.0-mstd101-inc1-mmax9",
}


def resolve_data_config(data_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The data config with defaults filled in; ``input_size`` may be an int or (C, H, W)."""
    config = {**DEFAULT_DATA_CONFIG, **dict(data_config or {})}
    size = config["input_size"]
    if isinstance(size, int):
        config["input_size"] = (3, size, size)
    else:
        config["input_size"] = tuple(int(s) for s in size)
    return config


def check_train_options(
    options: Mapping[str, Any] | None, at: str = "data.train_transform"
) -> dict[str, Any]:
    """Train augmentation options merged over :data:`TRAIN_DEFAULTS`; unknown keys are errors."""
    options = dict(options or {})
    for key in options:
        if key not in TRAIN_DEFAULTS:
            raise ConfigError(
                f"Unknown parameter '{at}.{key}'.{did_you_mean(key, list(TRAIN_DEFAULTS))} "
                f"Accepted: {', '.join(TRAIN_DEFAULTS)}."
            )
    merged = {**TRAIN_DEFAULTS, **options}
    for key in ("scale", "ratio"):
        merged[key] = tuple(float(v) for v in merged[key])
    name = merged["auto_augment"]
    if name:
        merged["auto_augment"] = AUTO_AUGMENT_ALIASES.get(str(name), str(name))
    return merged


def build_transform(
    data_config: Mapping[str, Any] | None,
    train: bool,
    options: Mapping[str, Any] | None = None,
    at: str = "data.train_transform",
) -> Callable:
    """A transform from an RGB PIL image to a normalised float tensor [3, H, W].

    Args:
        data_config: the backbone's timm data config (None: ImageNet defaults at 224 px).
        train: training augmentation (else resize + centre crop).
        options: train augmentation options (keys of :data:`TRAIN_DEFAULTS`).
        at: config path of ``options``, for error messages.
    """
    config = resolve_data_config(data_config)
    common = {
        "input_size": config["input_size"],
        "interpolation": config["interpolation"],
        "mean": tuple(config["mean"]),
        "std": tuple(config["std"]),
    }
    if not train:
        return create_transform(
            is_training=False, crop_pct=config["crop_pct"], crop_mode=config["crop_mode"], **common
        )
    opts = check_train_options(options, at)
    try:
        return create_transform(is_training=True, **common, **opts)
    except (AssertionError, KeyError, ValueError) as err:
        raise ConfigError(
            f"'{at}.auto_augment' = {opts['auto_augment']!r} is not a timm augmentation "
            f"policy ({err!r}); use e.g. 'rand-m9-mstd0.5', 'trivialaugment', 'augmix-m5', "
            "'original' or null."
        ) from err
