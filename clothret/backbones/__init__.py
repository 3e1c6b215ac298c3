"""Backbones (``backbone`` group): every timm model by name, plus custom registered networks.

Registered names with a config in ``configs/backbone/``: ``resnet18``, ``resnet50``,
``tf_efficientnet_lite0`` (offline ImageNet weights, ``pretrained: package``) and
``tiny_convnet``. Any other ``timm.list_models()`` name resolves through the registry's
fallback to a :class:`TimmBackbone`. Weights come from timm (``pretrained: true``), an installed
package (``pretrained: package``, :mod:`~clothret.backbones.offline_weights`) or a local file
(``checkpoint: PATH``, :mod:`~clothret.backbones.checkpoint`).
"""

from clothret.backbones import timm_backbone, tiny_convnet
from clothret.backbones.base import Backbone
from clothret.backbones.checkpoint import load_checkpoint
from clothret.backbones.timm_backbone import TimmBackbone, timm_factory
from clothret.backbones.timm_names import resolve, suggest, timm_names
from clothret.backbones.tiny_convnet import TinyConvNet
from clothret.registry import REGISTRIES

REGISTRIES["backbone"].set_fallback(resolve, timm_names)

__all__ = [
    "Backbone",
    "TimmBackbone",
    "TinyConvNet",
    "load_checkpoint",
    "resolve",
    "suggest",
    "timm_backbone",
    "timm_factory",
    "timm_names",
    "tiny_convnet",
]
