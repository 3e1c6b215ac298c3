"""The map-style dataset over manifest rows, yielding the batch dict of DESIGN §1."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from clothret.datamodules.images import DEFAULT_DECODER, check_decoder, load_image
from clothret.datamodules.manifest import (
    ATTR_PREFIX,
    BBOX_COLUMNS,
    BBOX_TOLERANCE,
    DOMAINS,
    ROW,
    bbox_outside_message,
)
from clothret.datamodules.vocab import Vocab
from clothret.errors import DataError
from clothret.keys import ATTRIBUTES, CATEGORY, DOMAIN, IMAGE, INDEX, IS_QUERY, ITEM_ID

log = logging.getLogger(__name__)

FILE = "file"  # column of the resolved image path


class ManifestDataset(Dataset):
    """Images of some manifest rows with their labels.

    Args:
        frame: validated manifest rows with a resolved ``file`` column; sample ``i`` is row ``i``.
        item_index: item string → int id (shared by all splits, so ids are comparable).
        vocab: the training vocabulary (categories and attribute values).
        transform: RGB PIL image → float tensor [3, H, W].
        decoder: ``torchvision`` or ``pil`` (see :mod:`clothret.datamodules.images`).
        crop_bbox: crop to the row's bbox (if it has one) before the transform.
        bbox_margin: extra context around the bbox, as a fraction of its width/height per side.
        is_query: per-row evaluation role; adds ``IS_QUERY`` to each sample when given.
        source: the manifest's name, for error messages.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        item_index: Mapping[str, int],
        vocab: Vocab,
        transform: Callable,
        decoder: str = DEFAULT_DECODER,
        crop_bbox: bool = False,
        bbox_margin: float = 0.1,
        is_query: np.ndarray | None = None,
        source: str = "manifest",
    ) -> None:
        self.frame = frame.reset_index(drop=True)
        self.transform, self.decoder = transform, check_decoder(decoder)
        self.crop_bbox, self.bbox_margin, self.source = crop_bbox, float(bbox_margin), source
        # Fixed-width numpy arrays instead of Python objects: workers share them without copying.
        self.files = self.frame[FILE].to_numpy(dtype=str)
        self.rows = self.frame[ROW].to_numpy(dtype=np.int64)
        self.item_ids = np.array([item_index[i] for i in self.frame["item_id"]], dtype=np.int64)
        self.categories, self.unknown_categories = vocab.encode_categories(self.frame["category"])
        self.domains = self.frame["domain"].map(DOMAINS).to_numpy(dtype=np.int64)
        self.attributes: dict[str, np.ndarray] = {}
        self.unknown_values: dict[str, Counter[str]] = {}
        for task in vocab.attributes:
            column = ATTR_PREFIX + task
            cells = self.frame[column].tolist() if column in self.frame else [""] * len(self.frame)
            self.attributes[task], unknown = vocab.encode_attributes(task, cells)
            if unknown:
                self.unknown_values[task] = unknown
        has_boxes = all(c in self.frame for c in BBOX_COLUMNS)
        self.boxes = self.frame[list(BBOX_COLUMNS)].to_numpy(float) if has_boxes else None
        self.is_query = None if is_query is None else np.asarray(is_query, dtype=bool)

    def log_unknown_labels(self, split: str) -> None:
        """Warn about categories and attribute values that the training split never had."""
        if self.unknown_categories:
            shown = ", ".join(f"{n!r} ({c})" for n, c in self.unknown_categories.most_common(5))
            log.warning(
                "%d '%s' images have categories unseen in training, mapped to negative (unknown) "
                "ids: %s%s.",
                sum(self.unknown_categories.values()),
                split,
                shown,
                ", ..." if len(self.unknown_categories) > 5 else "",
            )
        for task, values in self.unknown_values.items():
            log.warning(
                "'%s' images have values of attribute '%s' unseen in training (ignored; a row "
                "with no known value is a missing label): %s.",
                split,
                task,
                ", ".join(f"{v!r} ({c})" for v, c in values.most_common(5)),
            )

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: int):
        """The decoded, upright RGB image of sample ``index``, cropped to its bbox if asked."""
        image = load_image(self.files[index], self.decoder, row=int(self.rows[index]))
        if self.boxes is not None and not np.isnan(self.boxes[index]).any():
            box = self.boxes[index]
            width, height = image.size
            if box[2] > width + BBOX_TOLERANCE or box[3] > height + BBOX_TOLERANCE:
                raise DataError(
                    bbox_outside_message(self.source, int(self.rows[index]), box, image.size)
                    + f" Image: '{self.files[index]}'."
                )
            if self.crop_bbox:
                image = image.crop(self.crop_box(box, width, height))
        return image

    def crop_box(self, box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
        """``box`` grown by the margin on each side, in whole pixels, clamped to the image."""
        x1, y1, x2, y2 = box
        dx, dy = (x2 - x1) * self.bbox_margin, (y2 - y1) * self.bbox_margin
        return (
            max(0, math.floor(x1 - dx)),
            max(0, math.floor(y1 - dy)),
            min(width, math.ceil(x2 + dx)),
            min(height, math.ceil(y2 + dy)),
        )

    def __getitem__(self, index: int) -> dict:
        sample = {
            IMAGE: self.transform(self.load(index)),
            ITEM_ID: int(self.item_ids[index]),
            CATEGORY: int(self.categories[index]),
            ATTRIBUTES: {t: torch.from_numpy(a[index]) for t, a in self.attributes.items()},
            DOMAIN: int(self.domains[index]),
            INDEX: index,
        }
        if self.is_query is not None:
            sample[IS_QUERY] = bool(self.is_query[index])
        return sample
