"""Small folders in the published formats of ``../shared/data``, with random-pixel images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

MAPPING = [
    ("tshirt_top", "T-Shirt", "Tshirts"),
    ("tshirt_top", "Top", ""),
    ("shirt", "Shirt", "Shirts"),
    ("shirt", "Blouse", ""),
    ("trousers", "Pants", "Jeans"),
    ("trousers", "", "Trousers"),
    ("shoes", "Shoes", "Casual Shoes"),
    ("hat", "Hat", "Caps"),
]
SHOP_TYPES = ["Tshirts", "Shirts", "Jeans", "Trousers", "Casual Shoes", "Caps", "Watches", "Belts"]
CONSUMER_LABELS = ["T-Shirt", "Top", "Shirt", "Blouse", "Pants", "Shoes", "Hat", "Not sure"]


def _image(path: Path, rng: np.random.Generator, size: tuple[int, int]) -> None:
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=80)


def make_folders(
    root: Path, shop_per_type: int = 14, consumer_per_label: int = 14, seed: int = 0
) -> Path:
    """``fashion-product``, ``clothing-cc0`` and the mapping CSV as ``../shared/data`` has them."""
    rng = np.random.default_rng(seed)
    shop = root / "fashion-product"
    (shop / "images").mkdir(parents=True)
    columns = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,"
    lines = [columns + "productDisplayName"]
    for n in range(shop_per_type * len(SHOP_TYPES)):
        kind = SHOP_TYPES[n % len(SHOP_TYPES)]
        gender = ("Men", "Women")[n % 2]
        sub = "Accessories" if kind in ("Watches", "Belts") else "Topwear"
        usage = ("Casual", "NA")[n % 2]
        lines.append(f"{1000 + n},{gender},Apparel,{sub},{kind},Blue,Summer,2012,{usage},x {n}")
        _image(shop / "images" / f"{1000 + n}.jpg", rng, (60, 80))
    (shop / "styles.csv").write_text("\n".join(lines) + "\n")
    consumer = root / "clothing-cc0"
    (consumer / "images").mkdir(parents=True)
    with (consumer / "images.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "sender_id", "label", "kids"])
        for n in range(consumer_per_label * len(CONSUMER_LABELS)):
            name = f"c{n:04d}"
            writer.writerow([name, n % 9, CONSUMER_LABELS[n % len(CONSUMER_LABELS)], "False"])
            _image(consumer / "images" / f"{name}.jpg", rng, (80, 64))
    with (root / "cross-domain-categories.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["coarse_category", "clothing_cc0_label", "fashion_product_articleType"])
        writer.writerows(MAPPING)
    return root
