"""Fixtures writing tiny copies of each published dataset layout, and the real-data location.

Each builder writes a few small JPEGs and the dataset's files in their exact published format
(count lines, header lines, column alignment, JSON keys) and returns the root folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

import clothret.datamodules.adapters  # noqa: F401  (registers the adapters)
from clothret.datamodules.base import ManifestDataModule
from clothret.keys import CATEGORY, DOMAIN, IMAGE, IS_QUERY, ITEM_ID
from clothret.registry import build

REPO = Path(__file__).resolve().parents[3]
REAL_DATA = REPO / ".." / "shared" / "data"
IMAGE_SIZE = (40, 48)  # width, height: every fixture bbox lies inside


def real_data(name: str) -> Path:
    """The folder ``../shared/data/<name>``, or skip the test when it is absent."""
    folder = REAL_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent (it lives beside the repository)")
    return folder


def write_jpeg(path: Path, seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", IMAGE_SIZE, (seed * 37 % 256, seed * 91 % 256, 128)).save(path, "JPEG")


def write_listing(path: Path, header: str, rows: Sequence[Sequence[object]]) -> None:
    """A DeepFashion list file: count line, header line, left-aligned padded columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [str(len(rows)), header]
    widths = [max(len(str(row[i])) for row in rows) + 2 for i in range(len(rows[0]))]
    lines += ["".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    path.write_text("\n".join(lines) + "\n")


# DeepFashion In-shop: (image_name, item_id, evaluation_status, clothes_type, box)
INSHOP = [
    ("img/WOMEN/Dresses/id_00000001/01_1_front.jpg", "id_00000001", "train", 3, (2, 3, 30, 40)),
    ("img/WOMEN/Dresses/id_00000001/01_2_side.jpg", "id_00000001", "train", 3, (1, 1, 39, 47)),
    ("img/MEN/Denim/id_00000002/01_1_front.jpg", "id_00000002", "train", 2, (5, 6, 20, 30)),
    ("img/WOMEN/Dresses/id_00000003/01_1_front.jpg", "id_00000003", "query", 3, (0, 0, 40, 48)),
    ("img/WOMEN/Dresses/id_00000003/02_1_front.jpg", "id_00000003", "gallery", 3, (4, 4, 8, 9)),
    ("img/MEN/Denim/id_00000004/01_4_full.jpg", "id_00000004", "query", 2, (7, 8, 33, 44)),
    ("img/MEN/Denim/id_00000004/02_7_additional.jpg", "id_00000004", "gallery", 2, (3, 2, 9, 12)),
    ("img/MEN/Tees_Tanks/id_00000005/01_1_front.jpg", "id_00000005", "gallery", 1, (1, 2, 3, 4)),
]


@pytest.fixture
def inshop_root(tmp_path: Path) -> Path:
    root = tmp_path / "inshop"
    for number, (name, *_) in enumerate(INSHOP):
        write_jpeg(root / name, number)
    write_listing(
        root / "Eval" / "list_eval_partition.txt",
        "image_name item_id evaluation_status",
        [r[:3] for r in INSHOP],
    )
    write_listing(root / "Anno" / "list_bbox_inshop.txt",
                  "image_name  clothes_type  pose_type  x_1  y_1  x_2  y_2",
                  [(r[0], r[3], 1, *(f"{v:03d}" for v in r[4])) for r in INSHOP])  # fmt: skip
    items = sorted({r[1] for r in INSHOP})
    (root / "Anno" / "list_item_inshop.txt").write_text("\n".join([str(len(items)), *items]) + "\n")
    return root


# DeepFashion Consumer-to-shop pairs: (consumer image, shop image, item_id, evaluation_status)
C2S_PAIRS = [
    (
        "img/CLOTHING/Blouse/id_00000001/comsumer_01.jpg",
        "img/CLOTHING/Blouse/id_00000001/shop_01.jpg",
        "id_00000001",
        "train",
    ),
    (
        "img/CLOTHING/Blouse/id_00000001/comsumer_02.jpg",
        "img/CLOTHING/Blouse/id_00000001/shop_01.jpg",
        "id_00000001",
        "train",
    ),
    (
        "img/DRESSES/Dress/id_00000002/comsumer_01.jpg",
        "img/DRESSES/Dress/id_00000002/shop_01.jpg",
        "id_00000002",
        "val",
    ),
    (
        "img/CLOTHING/Blouse/id_00000003/comsumer_01.jpg",
        "img/CLOTHING/Blouse/id_00000003/shop_01.jpg",
        "id_00000003",
        "test",
    ),
    (
        "img/CLOTHING/Blouse/id_00000003/comsumer_01.jpg",
        "img/CLOTHING/Blouse/id_00000003/shop_02.jpg",
        "id_00000003",
        "test",
    ),
    (
        "img/DRESSES/Dress/id_00000004/comsumer_01.jpg",
        "img/DRESSES/Dress/id_00000004/shop_01.jpg",
        "id_00000004",
        "test",
    ),
    (
        "img/TOPS/T_Shirt/id_00000005/comsumer_01.jpg",
        "img/TOPS/T_Shirt/id_00000005/shop_01.jpg",
        "id_00000005",
        "val",
    ),
]
C2S_EXTRA_IMAGE = "img/TOPS/T_Shirt/id_00000009/shop_01.jpg"  # boxed but in no pair


def c2s_box(name: str) -> tuple[int, int, int, int]:
    """A distinct box per image, derived from its name, inside the fixture image."""
    k = sum(map(ord, name)) % 7
    return (k, k + 1, 20 + k, 30 + k)


@pytest.fixture
def make_consumer2shop(tmp_path: Path) -> Callable[..., Path]:
    def make(pairs: Sequence[tuple[str, str, str, str]] = C2S_PAIRS) -> Path:
        root = tmp_path / "consumer2shop"
        images = sorted({name for pair in pairs for name in pair[:2]} | {C2S_EXTRA_IMAGE})
        for number, name in enumerate(images):
            write_jpeg(root / name, number)
        write_listing(
            root / "Eval" / "list_eval_partition.txt",
            "image_pair_name_1 image_pair_name_2 item_id evaluation_status",
            pairs,
        )
        boxes = [(name, 1, 1 if "/shop_" in name else 2, 1, *(f"{v:03d}" for v in c2s_box(name)))
                 for name in images]  # fmt: skip
        write_listing(
            root / "Anno" / "list_bbox_consumer2shop.txt",
            "image_name clothes_type source_type pose_type x_1 y_1 x_2 y_2",
            boxes,
        )
        return root

    return make


def s2s_pair(photo: int, product: int, left: int = 2, top: int = 3) -> dict:
    return {"photo": photo, "product": product,
            "bbox": {"width": 20, "top": top, "left": left, "height": 30}}  # fmt: skip


# Street2Shop meta files, by file name.
S2S_META = {
    "train_pairs_dresses.json": [s2s_pair(101, 1), s2s_pair(102, 2, left=5)],
    "test_pairs_dresses.json": [s2s_pair(201, 3), s2s_pair(201, 4, left=10, top=12)],
    "retrieval_dresses.json": [{"product": p, "photo": f} for p, f in
                               [(1, 1001), (2, 1002), (3, 1003), (3, 1013), (4, 1004), (5, 1005)]],
    "train_pairs_footwear.json": [s2s_pair(301, 11), s2s_pair(302, 12)],
    "test_pairs_footwear.json": [s2s_pair(401, 12), s2s_pair(999, 12)],
}  # fmt: skip
S2S_NOT_DOWNLOADED = 999


@pytest.fixture
def street2shop_root(tmp_path: Path) -> Path:
    root = tmp_path / "street2shop"
    (root / "meta" / "json").mkdir(parents=True)
    photos = {11, 12}  # footwear has no retrieval file: product ids are shop photo ids
    for name, entries in S2S_META.items():
        (root / "meta" / "json" / name).write_text(json.dumps(entries))
        photos |= {e["photo"] for e in entries}
    for photo in sorted(photos - {S2S_NOT_DOWNLOADED}):
        write_jpeg(root / "images" / f"{photo}.jpg", photo)
    return root


STYLES_HEADER = (
    "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,"
    "productDisplayName"
)
STYLES_ROWS = [
    "1001,Men,Apparel,Topwear,Tshirts,Blue,Summer,2011,Casual,Basic Blue Tee",
    "1002,Women,Apparel,Topwear,Tshirts,Red,Summer,2012,NA,Red Tee",
    "1003,Men,Apparel,Topwear,Tshirts,,Fall,2011,Sports,Tee, Grey, Dry Fit",  # extra commas
    "1004,Boys,Apparel,Topwear,Tshirts,White,Summer,,Casual,Kids Tee",
    "1005,Men,Apparel,Topwear,Tshirts,Black,Winter,2016,Casual,Black Tee",
    "2001,Men,Apparel,Topwear,Shirts,White,Fall,2011,Formal,Formal Shirt",
    "2002,Women,Apparel,Topwear,Shirts,Pink,Summer,2012,Casual,Pink Shirt",
    "2003,Men,Apparel,Topwear,Shirts,Blue,Summer,2012,Casual,Denim Shirt",
    "3001,Women,Accessories,Watches,Watches,Silver,Winter,2016,Casual,Steel Watch",
    "3002,Men,Accessories,Watches,Watches,Black,Winter,2016,Casual,Sport Watch",
    "4001,Men,Accessories,Headwear,Caps,Red,Summer,2012,Sports,Red Cap",
    "5001,Unisex,Accessories,Bags,,Black,Summer,2012,Casual,Unlabelled Bag",  # no articleType
    "6001,Men,Apparel,Topwear,Tshirts,Green,Summer,2012,Casual,Lost Tee",  # no image file
]
STYLES_WITHOUT_IMAGE = "6001"


@pytest.fixture
def fashion_product_root(tmp_path: Path) -> Path:
    root = tmp_path / "fashion_product"
    (root / "images").mkdir(parents=True)
    (root / "styles.csv").write_text("\n".join([STYLES_HEADER, *STYLES_ROWS]) + "\n")
    for number, row in enumerate(STYLES_ROWS):
        if not row.startswith(STYLES_WITHOUT_IMAGE):
            write_jpeg(root / "images" / f"{row.split(',')[0]}.jpg", number)
    return root


# CC0 clothing photos: (image, sender_id, label, kids)
CLOTHING = [
    ("0a1b-t1", 4, "T-Shirt", "False"), ("0a1b-t2", 4, "T-Shirt", "True"),
    ("0a1b-t3", 7, "T-Shirt", "False"), ("0a1b-t4", 9, "T-Shirt", "False"),
    ("0a1b-p1", 4, "Pants", "False"), ("0a1b-p2", 12, "Pants", "True"),
    ("0a1b-p3", 12, "Pants", "False"), ("0a1b-h1", 3, "Hat", "False"),
    ("0a1b-h2", 3, "Hat", "False"), ("0a1b-h3", 5, "Hat", "True"),
    ("0a1b-n1", 3, "Not sure", "False"), ("0a1b-o1", 8, "Other", "False"),
    ("0a1b-lost", 8, "Shoes", "False"),  # no image file
]  # fmt: skip
CLOTHING_WITHOUT_IMAGE = "0a1b-lost"


@pytest.fixture
def clothing_photos_root(tmp_path: Path) -> Path:
    root = tmp_path / "clothing_photos"
    (root / "images").mkdir(parents=True)
    lines = ["image,sender_id,label,kids"] + [",".join(map(str, row)) for row in CLOTHING]
    (root / "images.csv").write_text("\n".join(lines) + "\n")
    for number, row in enumerate(CLOTHING):
        if row[0] != CLOTHING_WITHOUT_IMAGE:
            write_jpeg(root / "images" / f"{row[0]}.jpg", number)
    return root


def build_from_yaml(name: str, **overrides: object) -> ManifestDataModule:
    """The datamodule of ``configs/datamodule/<name>.yaml`` with overrides, small and CPU-only."""
    node = OmegaConf.to_container(OmegaConf.load(REPO / "configs" / "datamodule" / f"{name}.yaml"))
    node.update(batch_size=2, num_workers=0, sampler="random", pin_memory=False)
    node.update(data_config={"input_size": [3, 32, 32]}, **overrides)
    module = build("datamodule", node)
    assert isinstance(module, ManifestDataModule)
    module.setup("fit")
    return module


def eval_batches(module: ManifestDataModule, stage: str) -> dict[str, torch.Tensor]:
    """Every batch of a stage's loader, concatenated (never a dropped last batch)."""
    loader = module.test_dataloader() if stage == "test" else module.val_dataloader()
    batches = list(loader)
    return {key: torch.cat([b[key] for b in batches]) for key in (IMAGE, ITEM_ID, DOMAIN, IS_QUERY)}


def check_train_batch(module: ManifestDataModule) -> dict:
    batch = next(iter(module.train_dataloader()))
    assert batch[IMAGE].shape == (2, 3, 32, 32) and batch[IMAGE].dtype == torch.float32
    assert batch[ITEM_ID].dtype == torch.long and batch[CATEGORY].shape == (2,)
    return batch
