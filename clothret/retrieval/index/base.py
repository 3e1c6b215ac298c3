"""Common API of the search indexes: input checks, ids, padding, save/load of a directory.

Every index answers ``search`` with ``(distances [Q, k] float32, ids [Q, k] int64)``, best first,
lower distance = closer: ``1 - cosine similarity`` for cosine, the L2 distance for euclidean and
the number of differing bits for Hamming. Missing results (k larger than the index or the
candidate pool) have id -1 and distance inf.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

import clothret
from clothret.errors import ConfigError, DataError, UnknownNameError
from clothret.retrieval.index.store import read_meta, write_directory

FLOAT_METRICS = ("cosine", "euclidean")


class Index:
    """Base of the registered indexes; subclasses implement ``_add``, ``_search``, ``_write``,
    ``_read`` and ``params``."""

    type_name: ClassVar[str] = ""
    needs_features: ClassVar[bool] = False
    needs_codes: ClassVar[bool] = False
    metric: str = ""

    def __init__(self) -> None:
        self.dims: int | None = None  # feature dimensions
        self.bits: int | None = None  # code length
        self._ids = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({params}) with {len(self)} items"

    def params(self) -> dict[str, Any]:
        """Constructor params, stored in the metadata to rebuild the index on load."""
        raise NotImplementedError

    def add(self, features: Any = None, codes: Any = None, ids: Any = None) -> None:
        """Add items: float ``features [N, D]`` and/or {0,1} ``codes [N, bits]`` (bool/uint8),
        with ``ids [N]`` (default: insertion order, continuing from ``len(self)``)."""
        feats, packed = self._inputs(features, codes, "add")
        n = len(feats) if feats is not None else len(packed)
        if ids is None:
            new_ids = np.arange(len(self), len(self) + n, dtype=np.int64)
        else:
            new_ids = np.asarray(ids.cpu() if isinstance(ids, torch.Tensor) else ids)
            if new_ids.shape != (n,) or new_ids.dtype.kind not in "iu" or (new_ids < 0).any():
                raise DataError(f"ids must be {n} non-negative integers, one per added item.")
        if n == 0:
            return
        self._add(feats, packed)
        self._ids = np.concatenate([self._ids, new_ids.astype(np.int64)])

    def search(
        self, features: Any = None, codes: Any = None, k: int = 10
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest items per query: ``(distances [Q, k], ids [Q, k])``, closest first."""
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}.")
        if len(self) == 0:
            raise DataError(f"The {self.type_name} index is empty: add() items before search().")
        feats, packed = self._inputs(features, codes, "search")
        dist, pos = self._search(feats, packed, int(k))
        found = pos >= 0
        ids = np.where(found, self._ids[np.where(found, pos, 0)], -1)
        return np.where(found, dist, np.inf).astype(np.float32), ids.astype(np.int64)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the index to ``directory`` (replaced atomically); returns its path."""

        def write_files(tmp: Path) -> None:
            np.save(tmp / "ids.npy", self._ids, allow_pickle=False)
            self._write(tmp)

        meta = {
            "type": self.type_name,
            "params": self.params(),
            "metric": self.metric,
            "dims": self.dims,
            "bits": self.bits,
            "count": len(self),
            "clothret_version": clothret.__version__,
        }
        return write_directory(directory, write_files, meta)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Index:
        """Read an index directory written by :meth:`save`; DataError if it is not intact."""
        from clothret.registry import get

        meta = read_meta(directory)
        if cls.type_name and meta.get("type") != cls.type_name:
            raise DataError(
                f"{directory} holds a {meta.get('type')!r} index, not {cls.type_name!r}; "
                "use clothret.retrieval.index.load_index to load any type."
            )
        try:
            target = cls if cls.type_name else get("index", str(meta.get("type")))
        except UnknownNameError as err:
            raise DataError(
                f"{directory}: {err} (is the plugin that defines it installed?)"
            ) from err
        index = target(**meta["params"])
        index.dims, index.bits = meta["dims"], meta["bits"]
        root = Path(directory)
        try:
            index._ids = np.load(root / "ids.npy", allow_pickle=False)
            index._read(root)
        except (RuntimeError, ValueError, OSError) as err:
            raise DataError(f"Cannot read the index in {directory}: {err}") from err
        if not len(index._ids) == index._count() == meta["count"]:
            raise DataError(
                f"{directory}: metadata says {meta['count']} items, the files hold "
                f"{index._count()} vectors and {len(index._ids)} ids; rebuild the index."
            )
        return index

    # -- inputs ----------------------------------------------------------------------------
    def _inputs(self, features: Any, codes: Any, action: str) -> tuple[Any, Any]:
        feats = packed = None
        if self.needs_features:
            if features is None:
                raise DataError(f"{type(self).__name__}.{action} needs features [N, D].")
            feats = self._check_features(features)
        if self.needs_codes:
            if codes is None:
                raise DataError(f"{type(self).__name__}.{action} needs codes [N, bits] (0/1).")
            packed = self._check_codes(codes)
        if feats is not None and packed is not None and len(feats) != len(packed):
            raise DataError(f"{len(feats)} feature rows but {len(packed)} code rows.")
        return feats, packed

    def _check_features(self, x: Any) -> np.ndarray:
        a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
        if a.ndim != 2 or not np.isfinite(a).all():
            raise DataError(f"features must be a finite 2-D array [N, D], got shape {a.shape}.")
        if self.dims is None:
            self.dims = a.shape[1]
        elif a.shape[1] != self.dims:
            raise DataError(f"features have {a.shape[1]} dimensions, the index has {self.dims}.")
        if self.metric == "cosine":
            a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(a)

    def _check_codes(self, x: Any) -> np.ndarray:
        """{0,1} codes packed 8 bits per byte (zero padding does not change Hamming distances)."""
        a = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
        if a.ndim != 2 or not np.isin(a, (0, 1)).all():
            raise DataError(f"codes must be a 2-D array of 0/1 bits [N, bits], got {a.shape}.")
        if self.bits is None:
            self.bits = a.shape[1]
        elif a.shape[1] != self.bits:
            raise DataError(f"codes have {a.shape[1]} bits, the index has {self.bits}.")
        return np.packbits(a.astype(bool), axis=1)

    # -- subclass hooks --------------------------------------------------------------------
    def _add(self, features: np.ndarray | None, packed: np.ndarray | None) -> None:
        raise NotImplementedError

    def _search(
        self, features: np.ndarray | None, packed: np.ndarray | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _write(self, directory: Path) -> None:
        raise NotImplementedError

    def _read(self, directory: Path) -> None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError


def check_metric(metric: str) -> str:
    """A float metric name, or a ConfigError listing the choices."""
    if metric not in FLOAT_METRICS:
        raise ConfigError(f"metric must be one of {', '.join(FLOAT_METRICS)}, got {metric!r}.")
    return metric


def faiss_distances(raw: np.ndarray, metric: str) -> np.ndarray:
    """faiss scores (inner product or squared L2) as the distances ``search`` returns."""
    if metric == "cosine":
        return 1.0 - raw
    return np.sqrt(np.maximum(raw, 0.0))


def load_index(directory: str | os.PathLike) -> Index:
    """Load any index directory, dispatching on the type recorded in its metadata."""
    return Index.load(directory)
