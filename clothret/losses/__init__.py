"""Loss terms (``loss`` group): each reads model outputs and the batch and returns a scalar."""

from clothret.losses.base import LossTerm, MetricLossTerm
from clothret.losses.contrastive_hash import ContrastiveHashLoss
from clothret.losses.cross_entropy import CrossEntropyLoss
from clothret.losses.quadruplet import QuadrupletLoss
from clothret.losses.triplet import TripletLoss
from clothret.losses.weighted_multilabel import WeightedMultilabelLoss

__all__ = [
    "ContrastiveHashLoss",
    "CrossEntropyLoss",
    "LossTerm",
    "MetricLossTerm",
    "QuadrupletLoss",
    "TripletLoss",
    "WeightedMultilabelLoss",
]
