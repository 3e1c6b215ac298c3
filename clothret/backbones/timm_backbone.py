"""Any timm model as a backbone: pooled features, optional intermediate levels, timm data config."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import timm
import torch
from torch import Tensor

from clothret import keys
from clothret.backbones.base import Backbone
from clothret.backbones.checkpoint import load_checkpoint
from clothret.backbones.levels import LevelHooks
from clothret.backbones.offline_weights import PACKAGE, load_offline_weights
from clothret.errors import ClothretError, ConfigError
from clothret.registry import register


class TimmBackbone(Backbone):
    """``timm.create_model(model_name, num_classes=0)`` returning ``FEATURES`` (+ ``FEATURE_MAPS``).

    Args:
        model_name: any ``timm.list_models()`` name, optionally with a weight tag
            (``resnet50.a1_in1k``) or a ``hf-hub:`` / ``local-dir:`` prefix.
        pretrained: ``False`` (random init), ``True`` (timm's loading path: Hugging Face Hub or
            its local cache) or ``"package"`` (ImageNet weights shipped in an installed Python
            package, no network: see :mod:`clothret.backbones.offline_weights`).
        checkpoint: local weight file loaded after the model is built (no network): a timm
            checkpoint, a state dict (``.pth``/``.bin``), ``.safetensors`` or a clothret
            Lightning checkpoint (see :mod:`clothret.backbones.checkpoint`). Needs
            ``pretrained: false``. An original-release file that timm converts on download
            (another key layout, JAX ``.npz``) needs timm's own loader instead:
            ``pretrained: true``, ``model_kwargs: {pretrained_cfg_overlay: {file: PATH}}``
            (plus ``custom_load: true`` for ``.npz``).
        checkpoint_strict: fail on missing or unexpected keys and shape mismatches (the
            default); false loads the tensors that match by name and shape and warns.
        checkpoint_key_map: key prefix replacements applied in order, e.g.
            ``{"encoder.": ""}``.
        checkpoint_prefix: take only the file's keys under this prefix (stripped), e.g.
            ``consumer_backbone.model.`` for DARN's consumer backbone; default: ``backbone.model.``
            for a clothret Lightning checkpoint, else every key; ``""`` takes every key.
        levels: intermediate outputs returned as ``FEATURE_MAPS``: submodule names from
            ``named_modules()`` (ResNet-50 ``[layer4.0, layer4.1, layer4.2]`` are ClothingNet's
            conv5_1..conv5_3), captured by forward hooks; or stage indices into
            ``model.feature_info`` (negative allowed), taken by timm's ``forward_intermediates``.
        img_size: input resolution (int or ``[H, W]``); passed to models with a fixed input
            size (ViT-like) and written into ``data_config["input_size"]`` for the transforms.
        drop_path_rate: stochastic depth rate, for the models that support it.
        grad_checkpointing: trade compute for memory with timm's ``set_grad_checkpointing``.
        compile: ``torch.compile`` the backbone; a mapping is passed as its keyword arguments
            (e.g. ``{mode: max-autotune}``). Parameter names in checkpoints do not change.
        freeze: fixed feature extractor (no gradients, BatchNorm in eval mode).
        model_kwargs: further ``timm.create_model`` keyword arguments.
    """

    def __init__(
        self,
        model_name: str,
        pretrained: bool | str = False,
        checkpoint: str | None = None,
        checkpoint_strict: bool = True,
        checkpoint_key_map: Mapping[str, str] | None = None,
        checkpoint_prefix: str | None = None,
        levels: Sequence[int | str] | None = None,
        img_size: int | Sequence[int] | None = None,
        drop_path_rate: float | None = None,
        grad_checkpointing: bool = False,
        compile: bool | Mapping[str, Any] = False,
        freeze: bool = False,
        model_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if pretrained not in (False, True, PACKAGE):
            raise ConfigError(
                f"backbone.pretrained must be true, false or {PACKAGE!r}, got {pretrained!r}."
            )
        if pretrained is not False and checkpoint is not None:
            raise ConfigError(
                f"backbone.pretrained={pretrained!r} and backbone.checkpoint both choose the "
                "weights; set only one (backbone.pretrained=false to load the checkpoint)."
            )
        self.model_name = model_name
        kwargs = dict(model_kwargs or {})
        if drop_path_rate is not None:
            kwargs["drop_path_rate"] = drop_path_rate
        if checkpoint is not None and not Path(checkpoint).is_file():
            raise ConfigError(f"backbone.checkpoint {str(checkpoint)!r} does not exist.")
        self.model = _create(model_name, pretrained is True, img_size, kwargs)
        self.data_config = dict(timm.data.resolve_model_data_config(self.model))
        if img_size is not None:
            size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
            self.data_config["input_size"] = (self.data_config["input_size"][0], *size)
        if pretrained == PACKAGE:
            self.data_config.update(load_offline_weights(self.model, model_name))
        if checkpoint is not None:
            key_map = dict(checkpoint_key_map or {})
            load_checkpoint(
                self.model, checkpoint, checkpoint_strict, key_map, checkpoint_prefix, model_name
            )
        self.feat_dim = int(getattr(self.model, "head_hidden_size", 0) or self.model.num_features)
        self._hooks: LevelHooks | None = None
        self._indices: list[int] | None = None
        if levels:
            self._set_levels(list(levels))
        if grad_checkpointing:
            try:
                self.model.set_grad_checkpointing(True)
            except (AssertionError, NotImplementedError, AttributeError) as err:
                raise ConfigError(
                    f"backbone.grad_checkpointing: timm model {model_name!r} does not support "
                    f"gradient checkpointing ({err or type(err).__name__}); set it to false."
                ) from err
        if freeze:
            self.freeze()
        self._compile_kwargs = None if not compile else {} if compile is True else dict(compile)
        if self._compile_kwargs is not None:
            self.compile(**self._compile_kwargs)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # nn.Module drops its compiled call on pickling and copying; compile the copy again
        # (e.g. the unshared consumer backbone made by copy.deepcopy).
        super().__setstate__(state)
        if getattr(self, "_compile_kwargs", None) is not None:
            self.compile(**self._compile_kwargs)

    def _set_levels(self, levels: list[int | str]) -> None:
        if all(isinstance(level, str) for level in levels):
            self._hooks = LevelHooks(self.model, [str(level) for level in levels])
            self.level_dims = self._dry_run(lambda x: self.model(x))
            return
        if not all(isinstance(level, int) and not isinstance(level, bool) for level in levels):
            raise ConfigError(
                f"backbone.levels {levels} mixes module names and stage indices; use one kind."
            )
        if not hasattr(self.model, "forward_intermediates"):
            raise ConfigError(
                f"backbone.levels: timm model {self.model_name!r} has no forward_intermediates; "
                "give submodule names from model.named_modules() instead of stage indices."
            )
        n = len(self.model.feature_info)
        bad = [i for i in levels if not -n <= i < n]
        if bad:
            raise ConfigError(f"backbone.levels {bad} out of range for {n} stages (0..{n - 1}).")
        self._indices = [i % n for i in levels]
        self.level_dims = self._dry_run(lambda x: self._intermediates(x)[1])

    @torch.no_grad()
    def _dry_run(self, run: Callable[[Tensor], Any]) -> list[int]:
        """Channels of each level from one forward pass of a blank image at the input size."""
        images = torch.zeros(1, *self.data_config["input_size"])
        if self._hooks is not None:
            return self._hooks.dims(self.model, lambda: run(images))
        was_training = self.model.training
        self.model.eval()
        try:
            return [int(m.shape[1]) for m in run(images)]
        finally:
            self.model.train(was_training)

    def _intermediates(self, images: Tensor) -> tuple[Tensor, list[Tensor]]:
        assert self._indices is not None
        # forward_intermediates returns stages in network order; map back to the asked order.
        order = sorted(set(self._indices))
        final, maps = self.model.forward_intermediates(images, indices=order)
        return final, [maps[order.index(i)] for i in self._indices]

    def forward(self, images: Tensor) -> dict[str, Any]:
        if self._hooks is not None:
            features, maps = self._hooks.capture(lambda: self.model(images))
            return {keys.FEATURES: features, keys.FEATURE_MAPS: maps}
        if self._indices is not None:
            final, maps = self._intermediates(images)
            features = self.model.forward_head(final, pre_logits=True)
            return {keys.FEATURES: features, keys.FEATURE_MAPS: maps}
        return {keys.FEATURES: self.model(images)}


def _create(
    name: str,
    from_timm: bool,
    img_size: int | Sequence[int] | None,
    kwargs: dict[str, Any],
) -> torch.nn.Module:
    """``timm.create_model`` with the errors a user can fix turned into ConfigErrors."""
    if img_size is not None:
        size = img_size if isinstance(img_size, int) else tuple(img_size)
        try:
            return _create(name, from_timm, None, {**kwargs, "img_size": size})
        except TypeError as err:  # a model without a fixed input size takes no img_size
            if "img_size" not in str(err):
                raise
    try:
        return timm.create_model(name, pretrained=from_timm, num_classes=0, **kwargs)
    except ClothretError:
        raise
    except Exception as err:
        if not from_timm or isinstance(err, TypeError):
            raise
        overlay = kwargs.get("pretrained_cfg_overlay") or {}
        if overlay.get("file"):
            raise ConfigError(
                f"Cannot load pretrained_cfg_overlay file {overlay['file']!r} into timm model "
                f"{name!r}: {type(err).__name__}: {err}"
            ) from err
        raise ConfigError(_download_help(name, err)) from err


def _download_help(name: str, err: Exception) -> str:
    hub_id = ""
    with contextlib.suppress(Exception):  # the help text does without an unresolvable Hub id
        hub_id = timm.models.get_pretrained_cfg(name).hf_hub_id or ""
    where = f" (Hugging Face Hub repo {hub_id!r})" if hub_id else ""
    return (
        f"Cannot load pretrained weights for timm model {name!r}{where} "
        f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). "
        "Downloading needs network access (or a copy in the local Hugging Face cache); with "
        "no network, copy a checkpoint "
        "(model.safetensors or .pth) to this machine and set backbone.pretrained=false "
        "backbone.checkpoint=/path/to/checkpoint, or use pretrained=package where a packaged "
        "source exists (tf_efficientnet_lite0). "
        "Set HF_HUB_OFFLINE=1 to fail at once instead of retrying the download."
    )


def timm_factory(model_name: str, doc: str | None = None) -> Callable[..., TimmBackbone]:
    """A factory building ``TimmBackbone(model_name, **params)``.

    Its signature is TimmBackbone's without ``model_name``, so the registry validates params.
    """

    def factory(**params: Any) -> TimmBackbone:
        return TimmBackbone(model_name, **params)

    params = list(inspect.signature(TimmBackbone.__init__).parameters.values())[2:]
    factory.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    factory.__name__ = factory.__qualname__ = model_name
    factory.__doc__ = doc or f"timm model {model_name!r} as a backbone (see TimmBackbone)."
    return factory


# Names with their own default config in configs/backbone/ (any other timm name works too).
register("backbone", "resnet18")(timm_factory("resnet18"))
register("backbone", "resnet50")(
    timm_factory("resnet50", "timm ResNet-50 (ClothingNet: levels layer4.0-layer4.2 = conv5_x).")
)
register("backbone", "tf_efficientnet_lite0")(
    timm_factory(
        "tf_efficientnet_lite0",
        "timm EfficientNet-Lite0; pretrained: package loads ImageNet weights without network.",
    )
)
