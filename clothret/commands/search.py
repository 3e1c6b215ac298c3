"""``clothret search INDEX_DIR IMAGE...``: embed query photos, print their nearest gallery items."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import OmegaConf

from clothret import keys
from clothret.commands.export import gallery_items
from clothret.errors import DataError
from clothret.experiment import build_backbone, build_module
from clothret.retrieval.index import load_index


def load_model(model_dir: str | Path) -> tuple[Any, Callable]:
    """The trained module (eval mode) and its eval transform, from an index's ``model/`` dir."""
    from clothret.datamodules.transforms import build_transform

    model_dir = Path(model_dir)
    for name in ("config.yaml", "model.json", "runtime.json"):
        if not (model_dir / name).is_file():
            raise DataError(
                f"{model_dir / name} is missing: rebuild the index with clothret index."
            )
    cfg = OmegaConf.load(model_dir / "config.yaml")
    info = json.loads((model_dir / "model.json").read_text())
    runtime = json.loads((model_dir / "runtime.json").read_text())
    checkpoint_path = Path(info["checkpoint"])
    if not checkpoint_path.is_file():
        raise DataError(
            f"The index's checkpoint {checkpoint_path} no longer exists; rebuild the index."
        )
    backbone = build_backbone(cfg)
    module = build_module(cfg, backbone, runtime)
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    module.load_state_dict(checkpoint["state_dict"])
    module.eval()
    return module, build_transform(backbone.data_config, train=False)


@torch.no_grad()
def embed_images(module: Any, transform: Callable, paths: Sequence[str]) -> dict[str, np.ndarray]:
    """Float features (and codes) of image files, as query (consumer-domain) images."""
    from clothret.datamodules.images import load_image

    images = torch.stack([transform(load_image(p)) for p in paths])
    domain = torch.full((len(paths),), keys.DOMAIN_CONSUMER, dtype=torch.long)
    outputs = module.embed_batch({keys.IMAGE: images, keys.DOMAIN: domain})
    result = {"features": outputs[keys.EMBEDDING].numpy()}
    if keys.CODES in outputs:
        result["codes"] = outputs[keys.CODES].numpy().astype(np.uint8)
    return result


def search(index_dir: str | Path, images: Sequence[str], k: int = 5, as_json: bool = False) -> list:
    """Print (and return) the top-k gallery items of each query image."""
    index_dir = Path(index_dir)
    if not (index_dir / "index").is_dir():
        raise DataError(f"{index_dir} is not an index directory (no index/): run clothret index.")
    for path in images:
        if not Path(path).is_file():
            raise DataError(f"Query image {path} does not exist.")
    index = load_index(index_dir / "index")
    module, transform = load_model(index_dir / "model")
    inputs = embed_images(module, transform, images)
    wanted = {"features": index.needs_features, "codes": index.needs_codes}
    distances, ids = index.search(**{k_: v for k_, v in inputs.items() if wanted[k_]}, k=k)
    gallery = gallery_items(index_dir)
    results = []
    for query, dist_row, id_row in zip(images, distances, ids, strict=True):
        hits = []
        for rank, (distance, gid) in enumerate(zip(dist_row, id_row, strict=True), start=1):
            if gid < 0:
                continue
            row = gallery.iloc[int(gid)]
            hits.append(
                {
                    "rank": rank,
                    "distance": float(distance),
                    "path": row["path"],
                    "item_id": row["item_id"],
                    "category": row["category"],
                }
            )
        results.append({"query": str(query), "results": hits})
    print(json.dumps(results, indent=2) if as_json else _format(results))
    return results


def _format(results: list[dict[str, Any]]) -> str:
    lines = []
    for entry in results:
        lines.append(f"query: {entry['query']}")
        for hit in entry["results"]:
            lines.append(
                f"  {hit['rank']:>3}  {hit['distance']:.4f}  item={hit['item_id']:<12} "
                f"category={hit['category']:<10} {hit['path']}"
            )
    return "\n".join(lines)
