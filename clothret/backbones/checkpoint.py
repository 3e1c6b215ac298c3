"""Load a local weight file into a timm model (``backbone.checkpoint``), with errors that say why.

Accepted files: a timm training checkpoint (a dict holding ``state_dict_ema``, ``model_ema``,
``state_dict`` or ``model``; EMA weights first, as timm's ``load_checkpoint`` does), a plain state
dict (``.pth``/``.pt``/``.bin``), a ``.safetensors`` file, or a Lightning checkpoint of clothret
(``state_dict`` keys ``backbone.model.*``; DARN's ``consumer_backbone.model.*`` is taken with
``prefix="consumer_backbone.model."``). Files are read by timm's ``load_state_dict`` with
``torch.load(weights_only=True)`` or safetensors: no pickled code runs.

Then, in order: keep the keys under ``prefix`` (stripped), rename keys by ``key_map`` prefix
replacements, drop the file's classifier (the model is built with ``num_classes=0``), and compare
with the model: missing keys, unexpected keys and shape mismatches. Strict loading fails on any of
them; non-strict loading takes the tensors that match by name and shape and warns about the rest.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path

import timm
from torch import Tensor, nn

from clothret.backbones.checkpoint_report import LoadReport, describe
from clothret.errors import ConfigError

log = logging.getLogger(__name__)

LIGHTNING_PREFIX = "backbone.model."  # TimmBackbone's weights inside a clothret LightningModule


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The tensors of a checkpoint file (unwrapped from a training checkpoint's dict)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"backbone.checkpoint {str(path)!r} does not exist or is not a file.")
    if path.suffix.lower() in (".npz", ".npy"):
        raise ConfigError(
            f"backbone.checkpoint {str(path)!r} is a NumPy (JAX/Flax) checkpoint, which needs "
            "the timm model's own loader: set backbone.checkpoint=null, "
            "backbone.pretrained=true and backbone.model_kwargs={pretrained_cfg_overlay: "
            f"{{file: {path}, custom_load: true}}}}."
        )
    try:
        # timm's reader: safetensors or torch.load(weights_only=True), unwraps the training
        # checkpoint's dict and strips DDP / torch.compile prefixes ("module.", "_orig_mod.").
        state = timm.models.load_state_dict(str(path), use_ema=True, weights_only=True)
    except Exception as err:
        raise ConfigError(
            f"Cannot read backbone.checkpoint {str(path)!r} ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}). It must be a .safetensors file or "
            "a PyTorch file readable with torch.load(weights_only=True) holding a state dict "
            "(save model.state_dict(), not the pickled model)."
        ) from err
    tensors = (
        {k: v for k, v in state.items() if isinstance(v, Tensor)}
        if isinstance(state, Mapping)
        else {}
    )
    if not tensors:
        what = (
            f"keys {sorted(map(str, state))[:10]}"
            if isinstance(state, Mapping)
            else type(state).__name__
        )
        raise ConfigError(
            f"backbone.checkpoint {str(path)!r} holds no tensors ({what}). A state dict is read at "
            "the top level or under state_dict_ema, model_ema, state_dict or model."
        )
    return tensors


def select_part(
    state: Mapping[str, Tensor], prefix: str | None, model_keys: set[str]
) -> tuple[dict[str, Tensor], str]:
    """The tensors under ``prefix`` with the prefix stripped.

    ``None`` detects a clothret Lightning checkpoint (``backbone.model.*``); ``""`` takes all.
    """
    if prefix is None:
        clothret_ckpt = any(k.startswith(LIGHTNING_PREFIX) for k in state)
        prefix = LIGHTNING_PREFIX if clothret_ckpt and not model_keys & set(state) else ""
    part = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    if not part:
        heads = sorted({k.split(".")[0] + "." for k in state})
        raise ConfigError(
            f"backbone.checkpoint_prefix {prefix!r}: no key of the file starts with it; its keys "
            f"start with {heads[:10]}."
        )
    return part, prefix


def remap_keys(state: Mapping[str, Tensor], key_map: Mapping[str, str]) -> dict[str, Tensor]:
    """Apply the prefix replacements of ``key_map`` to every key, in the map's order."""
    renamed: dict[str, Tensor] = {}
    origin: dict[str, str] = {}
    for key, value in state.items():
        new = key
        for old, replacement in key_map.items():
            if not isinstance(old, str) or not isinstance(replacement, str):
                raise ConfigError(
                    "backbone.checkpoint_key_map maps key prefixes to prefixes (strings), got "
                    f"{old!r}: {replacement!r}."
                )
            if new.startswith(old):
                new = replacement + new[len(old) :]
        if new in renamed:
            raise ConfigError(
                f"backbone.checkpoint_key_map renames both {origin[new]!r} and {key!r} to {new!r}; "
                "make the replacements more specific."
            )
        renamed[new], origin[new] = value, key
    return renamed


def classifier_names(model: nn.Module) -> tuple[str, ...]:
    """The model's classifier module names (timm's ``pretrained_cfg["classifier"]``)."""
    names = (getattr(model, "pretrained_cfg", None) or {}).get("classifier") or ()
    return (names,) if isinstance(names, str) else tuple(names)


def load_checkpoint(
    model: nn.Module,
    path: str | Path,
    strict: bool = True,
    key_map: Mapping[str, str] | None = None,
    prefix: str | None = None,
    model_name: str = "",
) -> LoadReport:
    """Load the file ``path`` into ``model``; see the module docstring for the steps."""
    target = model.state_dict()
    state, taken = select_part(read_state_dict(path), prefix, set(target))
    state = remap_keys(state, key_map or {})
    report = LoadReport(prefix=taken)
    heads = tuple(f"{name}." for name in classifier_names(model))
    for key in list(state):
        if key not in target and heads and key.startswith(heads):
            report.dropped.append(key)
            del state[key]
    for key, value in state.items():
        if key not in target:
            report.unexpected.append(key)
        elif value.shape != target[key].shape:
            report.mismatched.append((key, tuple(value.shape), tuple(target[key].shape)))
        else:
            report.loaded.append(key)
    # A missing BatchNorm step counter is harmless (older files lack it): the model keeps its own.
    report.missing = [
        k for k in target if k not in state and not k.endswith(".num_batches_tracked")
    ]
    problems = report.missing or report.unexpected or report.mismatched
    if (problems and strict) or not report.loaded:
        raise ConfigError(describe(report, str(path), model_name, set(target), strict))
    model.load_state_dict({**target, **{k: state[k] for k in report.loaded}})
    if problems:
        warnings.warn(describe(report, str(path), model_name, set(target), strict), stacklevel=2)
    log.info(
        "Loaded %d tensors from %s%s; dropped classifier %s",
        len(report.loaded),
        path,
        f" (keys under {taken!r})" if taken else "",
        report.dropped,
    )
    return report
