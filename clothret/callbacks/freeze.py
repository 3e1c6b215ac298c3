"""Layer freezing through Lightning's ``BaseFinetuning`` (frozen layers keep BatchNorm in eval)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

import pytorch_lightning as pl
from pytorch_lightning.callbacks import BaseFinetuning
from torch import nn
from torch.optim import Optimizer

from clothret.errors import ConfigError
from clothret.registry import register


@register("callback", "freeze_backbone")
class FreezeBackbone(BaseFinetuning):
    """Freeze backbone layers for the first epochs, then train them.

    The backbone's parameters are already in the optimizer (with ``module.backbone_lr_mult``),
    so unfreezing only turns gradients back on; no param group is added.

    Args:
        unfreeze_at_epoch: epoch at which the frozen layers start training; -1 keeps them
            frozen for the whole run (a linear probe of the backbone's features).
        layers: fnmatch patterns of backbone module names to freeze, as in
            ``backbone.named_modules()`` (e.g. ``model.layer[12]`` for a timm ResNet's first two
            stages); default: the whole backbone.
        train_bn: keep BatchNorm layers of frozen parts in training mode.
    """

    def __init__(
        self, unfreeze_at_epoch: int = 1, layers: Sequence[str] = ("*",), train_bn: bool = False
    ) -> None:
        super().__init__()
        self.unfreeze_at_epoch = int(unfreeze_at_epoch)
        self.layers = tuple(layers)
        self.train_bn = train_bn

    def _frozen_modules(self, pl_module: pl.LightningModule) -> list[nn.Module]:
        backbones = [pl_module.backbone]
        if getattr(pl_module, "consumer_backbone", None) is not None:
            backbones.append(pl_module.consumer_backbone)
        if self.layers == ("*",):
            return backbones
        chosen: list[nn.Module] = []
        for backbone in backbones:
            taken: list[str] = []
            for name, module in backbone.named_modules():
                inside_taken = any(name.startswith(f"{t}.") for t in taken)
                if (
                    name
                    and not inside_taken
                    and any(fnmatch.fnmatchcase(name, p) for p in self.layers)
                ):
                    taken.append(name)
                    chosen.append(module)
        if not chosen:
            names = [n for n, _ in pl_module.backbone.named_modules() if n.count(".") <= 1 and n]
            raise ConfigError(
                f"callbacks.freeze_backbone.layers {list(self.layers)} match no backbone module; "
                f"module names look like: {', '.join(names[:12])}, ..."
            )
        return chosen

    def freeze_before_training(self, pl_module: pl.LightningModule) -> None:
        self.freeze(self._frozen_modules(pl_module), train_bn=self.train_bn)

    def finetune_function(
        self, pl_module: pl.LightningModule, current_epoch: int, optimizer: Optimizer
    ) -> None:
        if current_epoch == self.unfreeze_at_epoch:
            self.make_trainable(self._frozen_modules(pl_module))
