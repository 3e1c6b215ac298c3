"""Capture the outputs of named submodules (e.g. ResNet-50's ``layer4.0``) with forward hooks.

Hooks reach any module of any model, including the blocks inside a stage (ClothingNet's
conv5_1, conv5_2 and conv5_3 are the three blocks of ResNet-50's last stage), which timm's
``features_only`` / ``forward_intermediates`` cannot: they stop at stage boundaries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from clothret.errors import ConfigError
from clothret.registry import did_you_mean


class _Store:
    """Where hooks put their outputs; ``active`` is set only during a backbone forward."""

    def __init__(self) -> None:
        self.active = False
        self.outputs: dict[str, Tensor] = {}


class _CaptureHook:
    """A forward hook writing a module's output to the store under its name.

    A callable object (not a closure) so that ``copy.deepcopy`` of the backbone (e.g. the
    unshared consumer backbone) gives hooks that write to the copy's own store.
    """

    def __init__(self, store: _Store, name: str) -> None:
        self.store, self.name = store, name

    def __call__(self, module: nn.Module, inputs: Any, output: Any) -> None:
        # Recomputation under gradient checkpointing runs outside a capture and is ignored.
        if self.store.active:
            self.store.outputs[self.name] = output


class LevelHooks(nn.Module):
    """Forward hooks on the submodules ``names`` of ``model``.

    Holds no parameters; it is an ``nn.Module`` only so that it moves and copies with its
    backbone.

    Args:
        model: the network to hook.
        names: dotted submodule names (``model.named_modules()``), in output order.
        at: config key reported in errors.
    """

    def __init__(self, model: nn.Module, names: Sequence[str], at: str = "backbone.levels"):
        super().__init__()
        modules = dict(model.named_modules())
        self.names = [str(n) for n in names]
        self._store = _Store()
        for name in self.names:
            if name not in modules or name == "":
                hint = did_you_mean(name, list(modules))
                raise ConfigError(
                    f"{at}: {name!r} is not a submodule of the model.{hint}"
                    " Levels are names from model.named_modules() (e.g. 'layer4.0') or stage "
                    "indices."
                )
            modules[name].register_forward_hook(_CaptureHook(self._store, name))

    def capture(self, run: Callable[[], Any]) -> tuple[Any, list[Tensor]]:
        """Call ``run()`` and return its result with the hooked outputs, in ``names`` order."""
        store = self._store
        store.outputs = {}
        store.active = True
        try:
            result = run()
        finally:
            store.active = False
        outputs, store.outputs = store.outputs, {}
        missing = [n for n in self.names if n not in outputs]
        if missing:
            raise ConfigError(
                f"backbone.levels: {missing} never run in the model's forward pass; choose "
                "modules that the forward pass goes through."
            )
        return result, [outputs[n] for n in self.names]

    @torch.no_grad()
    def dims(self, model: nn.Module, run: Callable[[], Any]) -> list[int]:
        """Channels of each level, from one forward pass ``run()`` of ``model``.

        A dry run: no gradient, and ``model`` in eval mode so BatchNorm statistics stay put.
        """
        was_training = model.training
        model.eval()
        try:
            _, maps = self.capture(run)
        finally:
            model.train(was_training)
        for name, value in zip(self.names, maps, strict=True):
            if not isinstance(value, Tensor) or value.dim() != 4:
                shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ConfigError(
                    f"backbone.levels: {name!r} outputs {shape}, not a [B, C, H, W] feature "
                    "map. Choose a convolutional block, or give stage indices (integers) to use "
                    "timm's forward_intermediates, which reshapes token outputs to maps."
                )
        return [int(m.shape[1]) for m in maps]
