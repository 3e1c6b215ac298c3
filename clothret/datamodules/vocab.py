"""Label vocabularies built from the training split, saved with a run and reused at evaluation.

Category ids index the sorted training categories; a category never seen in training maps to a
negative id (:data:`UNKNOWN` = -1 for the first unknown name in sorted order, -2 for the next,
...): unknown to every classifier and loss (they ignore negative ids), yet images of the same
unknown category still share an id, so category-level retrieval relevance stays correct when a
model is evaluated on data with new categories.

Attribute tasks (``attr_<task>`` columns) are multi-hot over the sorted training values of the
task; several values of one image are joined by ``|``; an empty cell is a missing label (a row of
-1), the literal "NA" is a value.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clothret.datamodules.manifest import ATTR_PREFIX, attribute_tasks
from clothret.errors import DataError
from clothret.utils.io import atomic_write_text

UNKNOWN = -1
MISSING = -1.0
SEPARATOR = "|"


def split_values(cell: str) -> list[str]:
    """The values of one attribute cell (``"a|b"`` → ``["a", "b"]``; ``""`` → ``[]``)."""
    return [v.strip() for v in cell.split(SEPARATOR) if v.strip()] if cell else []


@dataclass
class Vocab:
    """Categories and attribute values of the training split.

    Attributes:
        categories: sorted category names; the id of a category is its position.
        attributes: task → sorted values; a task's multi-hot vector has one slot per value.
        label_counts: task → number of positive labels of the task in the training split.
    """

    categories: list[str]
    attributes: dict[str, list[str]] = field(default_factory=dict)
    label_counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._category_ids = {c: i for i, c in enumerate(self.categories)}
        self._value_ids = {t: {v: i for i, v in enumerate(vs)} for t, vs in self.attributes.items()}

    @classmethod
    def from_frame(cls, train: pd.DataFrame) -> Vocab:
        """Build the vocabulary from the training rows of a validated manifest."""
        if len(train) == 0:
            raise DataError(
                "The training split is empty, so there is no label vocabulary; add 'train' rows "
                "or pass a saved vocab.json as data.vocab."
            )
        attributes, counts = {}, {}
        for task in attribute_tasks(train):
            per_row = [split_values(c) for c in train[ATTR_PREFIX + task]]
            attributes[task] = sorted({v for values in per_row for v in values})
            counts[task] = sum(len(set(values)) for values in per_row)
        return cls(sorted(set(train["category"])), attributes, counts)

    @property
    def num_categories(self) -> int:
        return len(self.categories)

    @property
    def attribute_dims(self) -> dict[str, int]:
        return {task: len(values) for task, values in self.attributes.items()}

    def encode_categories(self, names: Iterable[str]) -> tuple[np.ndarray, Counter[str]]:
        """Category ids (negative for names outside the vocabulary) and the unknown names."""
        names = list(names)
        unknown = Counter(n for n in names if n not in self._category_ids)
        negative = {name: UNKNOWN - rank for rank, name in enumerate(sorted(unknown))}
        ids = [self._category_ids.get(n, negative.get(n, UNKNOWN)) for n in names]
        return np.array(ids, dtype=np.int64), unknown

    def encode_attributes(self, task: str, cells: Sequence[str]) -> tuple[np.ndarray, Counter[str]]:
        """Multi-hot rows [N, M] for one task and the values outside the vocabulary.

        A row is all ``MISSING`` when the cell is empty, when the task is absent, or when none of
        its values is known (claiming "none of the known values" would be a wrong negative).
        """
        index = self._value_ids[task]
        out = np.zeros((len(cells), len(index)), dtype=np.float32)
        unknown: Counter[str] = Counter()
        for row, cell in enumerate(cells):
            values = split_values(cell)
            known = [index[v] for v in values if v in index]
            unknown.update(v for v in values if v not in index)
            if known:
                out[row, known] = 1.0
            else:
                out[row] = MISSING
        return out, unknown

    def to_dict(self) -> dict:
        return {
            "categories": list(self.categories),
            "attributes": {t: list(v) for t, v in self.attributes.items()},
            "label_counts": dict(self.label_counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Vocab:
        try:
            return cls(
                list(data["categories"]),
                {str(t): list(v) for t, v in data.get("attributes", {}).items()},
                {str(t): int(n) for t, n in data.get("label_counts", {}).items()},
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise DataError(
                f"Not a clothret vocabulary ({err}); expected a saved vocab.json."
            ) from err

    def save(self, path: str | Path) -> Path:
        """Write the vocabulary as JSON atomically (temp file + rename)."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"Vocabulary file not found: '{path}'; it is saved as vocab.json.")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except json.JSONDecodeError as err:
            raise DataError(f"'{path}' is not valid JSON ({err}); expected a vocab.json.") from err
