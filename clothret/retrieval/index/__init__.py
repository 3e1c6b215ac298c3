"""Search indexes, registered in the ``index`` group; each saves to a directory of plain files.

``exact`` (faiss flat), ``binary`` (Hamming on packed codes), ``hierarchical`` (Lin et al.'s
Hamming pool + float re-rank) and ``ivf`` (k-means inverted file). ``load_index(directory)``
loads any of them.
"""

from clothret.retrieval.index import binary, exact, hierarchical, ivf
from clothret.retrieval.index.base import Index, load_index
from clothret.retrieval.index.binary import BinaryIndex
from clothret.retrieval.index.exact import ExactIndex
from clothret.retrieval.index.hierarchical import HierarchicalIndex
from clothret.retrieval.index.ivf import IVFIndex

__all__ = [
    "BinaryIndex",
    "ExactIndex",
    "HierarchicalIndex",
    "IVFIndex",
    "Index",
    "binary",
    "exact",
    "hierarchical",
    "ivf",
    "load_index",
]
