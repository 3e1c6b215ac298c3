"""Generate the sample dataset: render every item's views in a process pool and save them.

Every item's RNG is derived from ``(seed, stream, item index, view index)`` only, so the output
is byte-identical whatever the number of worker processes and the order they finish in.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clothret.errors import ConfigError
from clothret.sample_data.garments import build_garment
from clothret.sample_data.output import write_description, write_manifest
from clothret.sample_data.views import consumer_view, shop_view
from clothret.sample_data.vocab import CATEGORIES, sample_spec

# Independent random streams; the key always has four entries because numpy's SeedSequence pads
# short keys with zeros, which would make e.g. (seed, 1) and (seed, 1, 0) collide.
_ITEM, _SHOP, _CONSUMER, _SPLIT = range(4)


def _rng(seed: int, stream: int, index: int, view: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, index, view])


@dataclass(frozen=True)
class _ItemJob:
    root: str
    seed: int
    index: int
    item_id: str
    train: bool
    shop_views: int
    consumer_views: int
    image_size: int


def train_items(seed: int, num_items: int, train_fraction: float) -> list[bool]:
    """Whether each item is a training item; split per category so each has both kinds."""
    rng = _rng(seed, _SPLIT, 0)
    is_train = [False] * num_items
    for first in range(len(CATEGORIES)):
        members = np.arange(first, num_items, len(CATEGORIES))
        count = min(max(round(train_fraction * len(members)), 1), len(members) - 1)
        for index in rng.permutation(members)[:count]:
            is_train[int(index)] = True
    return is_train


def _render_item(job: _ItemJob) -> list[list[str]]:
    """Render and save every view of one item; returns its manifest rows."""
    rng = _rng(job.seed, _ITEM, job.index)
    spec = sample_spec(rng, CATEGORIES[job.index % len(CATEGORIES)])
    garment = build_garment(spec, rng, job.image_size)
    root, rows = Path(job.root), []
    for domain, count, stream, render in (
        ("shop", job.shop_views, _SHOP, shop_view),
        ("consumer", job.consumer_views, _CONSUMER, consumer_view),
    ):
        split = "train" if job.train else ("gallery" if domain == "shop" else "query")
        for view_index in range(count):
            view = render(garment, _rng(job.seed, stream, job.index, view_index), job.image_size)
            stem = f"{job.item_id}_{domain}{view_index}"
            image_path, mask_path = f"images/{stem}.jpg", f"masks/{stem}.png"
            view.image.save(root / image_path, "JPEG", quality=view.quality)
            view.mask.save(root / mask_path, "PNG")
            rows.append(
                [image_path, job.item_id, spec.category, domain, split]
                + [str(v) for v in view.bbox]
                + [mask_path, spec.pattern, spec.sleeve, spec.length, "|".join(spec.colors)]
            )
    return rows


def _run(jobs: list[_ItemJob], workers: int) -> list[list[str]]:
    if workers <= 1:
        return [row for job in jobs for row in _render_item(job)]
    # fork starts workers in milliseconds and needs no importable __main__; elsewhere use the
    # platform default.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(jobs) // (4 * workers))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return [row for rows in pool.map(_render_item, jobs, chunksize=chunk) for row in rows]


def _check(seed, num_items, shop_views, consumer_views, image_size, train_fraction, workers):
    minimum = 2 * len(CATEGORIES)
    problems = [
        (
            not isinstance(seed, (int, np.integer)) or seed < 0,
            f"seed must be an int >= 0, got {seed!r}",
        ),
        (
            num_items < minimum,
            f"num_items must be >= {minimum} (a train and an eval item per "
            f"category), got {num_items}",
        ),
        (shop_views < 1 or consumer_views < 1, "shop_views and consumer_views must be >= 1"),
        (image_size < 32, f"image_size must be >= 32 pixels, got {image_size}"),
        (not 0 < train_fraction < 1, f"train_fraction must be in (0, 1), got {train_fraction}"),
        (workers is not None and workers < 1, f"workers must be >= 1 or None, got {workers}"),
    ]
    for failed, message in problems:
        if failed:
            raise ConfigError(f"generate_sample_data: {message}")


def default_workers() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def generate_sample_data(
    out_dir: str | Path,
    seed: int = 0,
    num_items: int = 160,
    shop_views: int = 3,
    consumer_views: int = 3,
    image_size: int = 96,
    train_fraction: float = 0.6,
    workers: int | None = None,
) -> Path:
    """Generate the clothing sample dataset under ``out_dir`` and return its manifest path.

    Writes ``images/*.jpg`` (RGB), ``masks/*.png`` (garment masks, 0/255), ``manifest.csv``
    (DESIGN §5 columns), ``sample_data.json`` and ``README.txt``. Items are split, never images:
    training items have all their views in ``train``; evaluation items have their consumer views
    in ``query`` and their shop views in ``gallery``. Categories cycle over the item index, and
    every category has items on both sides of the split.

    Args:
        out_dir: output folder (created if missing; existing files with the same names are
            overwritten).
        seed: non-negative seed; the same seed always gives byte-identical files.
        num_items: number of garments (at least 2 per category, i.e. 16).
        shop_views: clean product views per item.
        consumer_views: degraded consumer views per item.
        image_size: side of the square images in pixels.
        train_fraction: share of each category's items used for training.
        workers: worker processes (None: all available cores); does not change the output.
    """
    _check(seed, num_items, shop_views, consumer_views, image_size, train_fraction, workers)
    root = Path(out_dir)
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(num_items - 1)))
    split = train_items(seed, num_items, train_fraction)
    jobs = [
        _ItemJob(
            str(root),
            seed,
            i,
            f"item{i:0{width}d}",
            split[i],
            shop_views,
            consumer_views,
            image_size,
        )
        for i in range(num_items)
    ]
    workers = min(workers or default_workers(), num_items)
    rows = _run(jobs, workers)
    params = {
        "seed": seed,
        "num_items": num_items,
        "shop_views": shop_views,
        "consumer_views": consumer_views,
        "image_size": image_size,
        "train_fraction": train_fraction,
    }
    write_description(root, params, rows)
    return write_manifest(root, rows)
