"""Retrieval without Lightning: exact metrics and search indexes, usable on their own.

:func:`retrieval_metrics` ranks a gallery for each query and reports hit@k, precision@k and
mAP@k; :func:`ranking_metrics` does the same from a ranking an index produced. The indexes
(``exact``, ``binary``, ``hierarchical``, ``ivf``) live in :mod:`clothret.retrieval.index`.
"""

from clothret.retrieval.index import (
    BinaryIndex,
    ExactIndex,
    HierarchicalIndex,
    Index,
    IVFIndex,
    load_index,
)
from clothret.retrieval.metrics import ranking_metrics, retrieval_metrics
from clothret.retrieval.ranking import rank_gallery

__all__ = [
    "BinaryIndex",
    "ExactIndex",
    "HierarchicalIndex",
    "IVFIndex",
    "Index",
    "load_index",
    "rank_gallery",
    "ranking_metrics",
    "retrieval_metrics",
]
