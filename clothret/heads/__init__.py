"""Heads (``head`` group): small modules that read one model output and write another.

``embedding`` and ``fusion`` write ``EMBEDDING``; ``latent_hash`` and ``tanh_hash`` write
``HASH`` (and binarise it to ``CODES``); ``classifier`` writes ``CATEGORY_LOGITS``;
``multitask`` writes ``ATTRIBUTE_LOGITS``.
"""

from clothret.heads import classifier, embedding, fusion, hash, multitask
from clothret.heads.base import Head, head_input
from clothret.heads.classifier import ClassifierHead
from clothret.heads.embedding import EmbeddingHead
from clothret.heads.fusion import FusionHead, PCAProjection
from clothret.heads.hash import HashHead, LatentHashHead, TanhHashHead
from clothret.heads.multitask import MultiTaskHead

__all__ = [
    "ClassifierHead",
    "EmbeddingHead",
    "FusionHead",
    "HashHead",
    "Head",
    "LatentHashHead",
    "MultiTaskHead",
    "PCAProjection",
    "TanhHashHead",
    "classifier",
    "embedding",
    "fusion",
    "hash",
    "head_input",
    "multitask",
]
