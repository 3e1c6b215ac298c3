"""Exhaustive Hamming search on {0,1} codes packed to bytes (faiss binary flat index)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from clothret.errors import DataError
from clothret.registry import register
from clothret.retrieval.index.base import Index

# faiss's counting selection (use_heap=False) beat its heap clearly for 1000 results (727 vs
# 452 queries/s on one core, 128-bit codes, 10^6 items: benchmarks/search.py); for 10-100
# results the two were within noise.
HEAP_BELOW = 256


def binary_index(bits: int) -> faiss.IndexBinaryFlat:
    """An empty faiss binary flat index for ``bits``-bit codes padded to whole bytes."""
    return faiss.IndexBinaryFlat(8 * ((bits + 7) // 8))


def hamming_search(
    index: faiss.IndexBinaryFlat, packed: np.ndarray, k: int, sort: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """k nearest codes per query; with ``sort``, equal distances in ascending position order."""
    index.use_heap = k < HEAP_BELOW
    dist, pos = index.search(packed, k)
    if not sort:
        return dist, pos
    dist = np.where(pos >= 0, dist, np.iinfo(np.int32).max)
    order = np.lexsort((np.where(pos >= 0, pos, np.iinfo(np.int64).max), dist), axis=1)
    return np.take_along_axis(dist, order, 1), np.take_along_axis(pos, order, 1)


def read_binary(path: Path, bits: int | None) -> faiss.IndexBinaryFlat:
    """A binary faiss index file, checked against the metadata's code length."""
    index = faiss.read_index_binary(str(path))
    if bits is None or index.d != 8 * ((bits + 7) // 8):
        raise DataError(f"{path} does not match its metadata ({bits} bits).")
    return index


@register("index", "binary")
class BinaryIndex(Index):
    """Exact Hamming-distance search on binary codes (no params)."""

    type_name = "binary"
    needs_codes = True
    metric = "hamming"

    def __init__(self) -> None:
        super().__init__()
        self._index: faiss.IndexBinaryFlat | None = None

    def params(self) -> dict:
        return {}

    def _add(self, features: np.ndarray | None, packed: np.ndarray | None) -> None:
        if self._index is None:
            self._index = binary_index(self.bits)
        self._index.add(packed)

    def _search(
        self, features: np.ndarray | None, packed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        dist, pos = hamming_search(self._index, packed, k)
        return dist.astype(np.float32), pos

    def _write(self, directory: Path) -> None:
        faiss.write_index_binary(self._index, str(directory / "codes.faiss"))

    def _read(self, directory: Path) -> None:
        self._index = read_binary(directory / "codes.faiss", self.bits)

    def _count(self) -> int:
        return self._index.ntotal
