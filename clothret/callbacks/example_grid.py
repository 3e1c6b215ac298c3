"""Retrieval examples: which gallery images a query retrieves, and pictures of them.

``rank_examples`` ranks the gallery for a few queries (pure tensors, no Lightning);
``example_grid`` draws the result as one image, a row per query: the query framed in grey, then
its top-k gallery images framed green (relevant) or red (not), each captioned with its distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from clothret import keys

COLORS = {True: (46, 160, 67), False: (218, 54, 51), None: (150, 150, 150)}
CAPTION_HEIGHT = 14
GAP = 4


@dataclass
class Example:
    """One query and its top-k gallery images (rows of the evaluation dataset)."""

    query: int
    label: int
    gallery: list[int]
    correct: list[bool]
    distances: list[float]


def select_queries(num_queries: int, n: int, seed: int | None) -> np.ndarray:
    """Positions of ``n`` of ``num_queries`` queries: the first ones (seed None) or a seeded
    sample, sorted; the same arguments always give the same positions."""
    n = min(n, num_queries)
    if seed is None:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(num_queries, size=n, replace=False))


def pairwise_distances(queries: torch.Tensor, gallery: torch.Tensor, metric: str) -> torch.Tensor:
    """``[Q, G]`` cosine distances (1 - cosine similarity) or Euclidean distances."""
    if metric == "cosine":
        return 1.0 - F.normalize(queries, dim=1) @ F.normalize(gallery, dim=1).T
    return torch.cdist(queries, gallery)


def rank_examples(
    data: dict[str, Any], n_queries: int, k: int, metric: str, label_key: str, seed: int | None
) -> list[Example]:
    """Top-``k`` gallery images of a fixed choice of queries in gathered evaluation outputs.

    Args:
        data: outputs sorted by ``INDEX`` with ``EMBEDDING``, ``IS_QUERY``, ``INDEX`` and the
            ``label_key`` column (``ITEM_ID`` or ``CATEGORY``: equal labels are relevant).
        n_queries, k, metric, seed: how many queries, how many results, the distance, and the
            query choice (see :func:`select_queries`). Ties rank the lower gallery index first.
    """
    is_query = data[keys.IS_QUERY].bool()
    query_rows = torch.nonzero(is_query).flatten()
    gallery_rows = torch.nonzero(~is_query).flatten()
    if len(query_rows) == 0 or len(gallery_rows) == 0:
        return []
    chosen = query_rows[torch.from_numpy(select_queries(len(query_rows), n_queries, seed))]
    feats = data[keys.EMBEDDING].float()
    dist = pairwise_distances(feats[chosen], feats[gallery_rows], metric)
    order = torch.argsort(dist, dim=1, stable=True)[:, : min(k, len(gallery_rows))]
    labels, index = data[label_key], data[keys.INDEX]
    examples = []
    for row, q in enumerate(chosen.tolist()):
        top = gallery_rows[order[row]]
        examples.append(
            Example(
                query=int(index[q]),
                label=int(labels[q]),
                gallery=[int(i) for i in index[top]],
                correct=[bool(c) for c in labels[top] == labels[q]],
                distances=[float(d) for d in dist[row, order[row]]],
            )
        )
    return examples


def tile(
    image: Image.Image | None, size: int, correct: bool | None, border: int = 4
) -> Image.Image:
    """``image`` fitted into a ``size``-pixel square (aspect kept) inside a coloured frame."""
    out = Image.new("RGB", (size, size), COLORS[correct])
    inner = size - 2 * border
    body = Image.new("RGB", (inner, inner), (255, 255, 255))
    if image is not None:
        picture = image.convert("RGB")
        picture.thumbnail((inner, inner))
        body.paste(picture, ((inner - picture.width) // 2, (inner - picture.height) // 2))
    out.paste(body, (border, border))
    return out


def example_grid(
    examples: list[Example], images: dict[int, Image.Image | None], size: int = 96
) -> Image.Image:
    """Queries as rows: the query, then its ranked gallery images framed green/red."""
    columns = 1 + max(len(e.gallery) for e in examples)
    cell_w, cell_h = size + GAP, size + CAPTION_HEIGHT + GAP
    grid = Image.new("RGB", (columns * cell_w + GAP, len(examples) * cell_h + GAP), "white")
    draw = ImageDraw.Draw(grid)
    for r, example in enumerate(examples):
        y = GAP + r * cell_h
        grid.paste(tile(images.get(example.query), size, None), (GAP, y))
        draw.text((GAP, y + size + 1), f"query {example.query}", fill=(0, 0, 0))
        for c, (g, ok, d) in enumerate(
            zip(example.gallery, example.correct, example.distances, strict=True), start=1
        ):
            x = GAP + c * cell_w
            grid.paste(tile(images.get(g), size, ok), (x, y))
            draw.text((x, y + size + 1), f"#{c} d={d:.3g}", fill=COLORS[ok])
    return grid
