"""Helpers shared by the two DeepFashion adapters: image-name folders and the bbox list files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clothret.errors import DataError

# clothes_type codes of the published bbox files.
CLOTHES_TYPES = {"1": "upper", "2": "lower", "3": "full"}


def path_parts(image_names: pd.Series, where: Path) -> pd.DataFrame:
    """Split ``img/<group>/<category>/<item>/<file>`` names into their five parts (columns 0-4)."""
    bad = image_names.str.count("/") != 4
    if bad.any():
        raise DataError(
            f"{str(where)!r}: image name {image_names[bad].iloc[0]!r} is not of the "
            "published form img/<group>/<category>/<item>/<file>.jpg."
        )
    return image_names.str.split("/", expand=True)


def with_bboxes(frame: pd.DataFrame, boxes: pd.DataFrame, where: Path) -> pd.DataFrame:
    """Join the bbox file's corners and clothes type onto ``frame`` by image name."""
    boxes = boxes.drop_duplicates("image_name").set_index("image_name")
    missing = ~frame["image_name"].isin(boxes.index)
    if missing.any():
        raise DataError(
            f"{str(where)!r} has no box for {int(missing.sum())} images (first: "
            f"{frame.loc[missing, 'image_name'].iloc[0]!r}); restore the published "
            "bbox file."
        )
    boxes = boxes.loc[frame["image_name"]]
    for name, column in zip(
        ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"), ("x_1", "y_1", "x_2", "y_2"), strict=True
    ):
        frame[name] = pd.to_numeric(boxes[column]).to_numpy(dtype=float)
    frame["attr_clothes_type"] = (
        boxes["clothes_type"].map(lambda code: CLOTHES_TYPES.get(code, code)).to_numpy()
    )
    return frame
