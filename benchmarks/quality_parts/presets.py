"""Each preset of the package, trained on the cached prefix maps through its own registered
module, loss, miner and sampler (``clothret.registry.build``), with Lightning's Trainer.

A :class:`Recipe` fixes what the config of an experiment would: the module and loss nodes, the
sampler, and which benchmark labels feed ``ITEM_ID``, ``CATEGORY`` and the attribute tasks
(see :mod:`benchmarks.quality_parts.data`).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from benchmarks.quality_parts.data import ATTRIBUTE_TASKS, codes, task_columns, training_vocab
from benchmarks.quality_parts.features import TrainableTail
from clothret import keys
from clothret.registry import build

EMBED_512 = {"name": "embedding", "dim": 512, "activation": "relu", "normalize": False}


@dataclass
class Recipe:
    """How one table row is trained and read out."""

    preset: str
    loss: dict[str, Any]
    sampler: dict[str, Any]
    heads: dict[str, Any] | None = None
    aux_losses: dict[str, Any] | None = None
    item: str = "fine"  # frame column feeding ITEM_ID (pairs of the metric losses)
    category: str = "fine"  # frame column feeding CATEGORY
    tasks: tuple[str, ...] = ()  # attribute tasks (frame columns fine/coarse/group or shop ones)
    levels: bool = False  # tail returns FEATURE_MAPS (ClothingNet)
    bits: int | None = None  # hash length, for the table
    own_task: str = "cross"  # the task of the method's paper: "shop" or "cross" (consumer→shop)
    module: dict[str, Any] = field(default_factory=dict)  # further module params


def latent_hash(bits: int) -> Recipe:
    """Lin et al.: F7 → sigmoid latent layer → softmax over fine labels; coarse as a 2nd task."""
    return Recipe(
        preset="latent_hash",
        loss={"name": "cross_entropy", "target": "category", "label_smoothing": 0.1},
        sampler={"name": "random"},
        heads={
            "embedding": EMBED_512,
            "hash": {"name": "latent_hash", "bits": bits, "input": keys.EMBEDDING},
            "classifier": {"name": "classifier", "input": keys.HASH},
            "attributes": {"name": "multitask", "multilabel": False, "input": keys.HASH},
        },
        aux_losses={"coarse": {"name": "cross_entropy", "target": "attributes", "weight": 1.0}},
        tasks=("coarse",),
        bits=bits,
        own_task="shop",  # Lin et al.: category retrieval of shop-style photos
    )


def multitask_hash(bits: int) -> Recipe:
    """Street-to-shop hashing: tanh codes, contrastive pairs on fine labels, category and
    attribute classifiers (μ = 0.05 per attribute task; the coarse task at weight 1).

    The contrastive term is weighted 0.01: its squared code distances reach 4·bits and, at
    weight 1, drown the classification terms (measured: shop p@10 0.47 against 0.69).
    """
    return Recipe(
        preset="multitask_hash",
        loss={"name": "contrastive_hash", "pairs": "balanced", "alpha": 0.01, "weight": 0.01},
        sampler={"name": "pk", "k": 4},
        heads={
            "hash": {"name": "tanh_hash", "bits": bits},
            "classifier": {"name": "classifier", "input": keys.HASH},
            "attributes": {"name": "multitask", "multilabel": False, "input": keys.HASH},
        },
        aux_losses={
            "category": {"name": "cross_entropy", "target": "category", "weight": 1.0},
            "attributes": {
                "name": "cross_entropy",
                "target": "attributes",
                "weight": 0.05,
                "task_weight": {"coarse": 20.0},
            },
        },
        tasks=("coarse", *ATTRIBUTE_TASKS),
        bits=bits,
    )


RECIPES: dict[str, Recipe] = {
    "latent_hash": latent_hash(128),
    "latent_hash_64": latent_hash(64),
    "multitask_hash": multitask_hash(128),
    "multitask_hash_64": multitask_hash(64),
    "clothingnet": Recipe(
        preset="clothingnet",
        loss={"name": "quadruplet", "margin_id": 0.2, "margin_class": 0.4},
        sampler={"name": "quadruplet", "k": 4, "items_per_category": 2},
        category="group",
        levels=True,
    ),
    "multiweight": Recipe(
        preset="multiweight",
        loss={"name": "weighted_multilabel", "scheme": "inverse_smoothed", "c": 3.0},
        sampler={"name": "random"},
        tasks=("fine", "coarse", *ATTRIBUTE_TASKS),
        own_task="shop",  # Li et al.: attribute/category retrieval of product photos
    ),
    "wtbi": Recipe(
        preset="wtbi",
        loss={"name": "triplet", "margin": 0.2},
        sampler={"name": "pk", "k": 4},
    ),
    "darn": Recipe(
        preset="darn",
        loss={"name": "triplet", "margin": 0.2, "consumer_to_shop": True},
        sampler={"name": "domain_pairs", "k": 8},
    ),
}


class CachedMaps(Dataset):
    """Training batch dicts of DESIGN §1 whose ``IMAGE`` is a cached prefix map, mirrored at
    random (the one augmentation a cache allows)."""

    def __init__(
        self,
        cache: dict[str, torch.Tensor],
        rows: np.ndarray,
        labels: dict[str, Any],
        seed: int,
    ) -> None:
        self.maps, self.mirrored = cache["maps"][rows], cache["mirrored"][rows]
        self.labels = labels
        self.generator = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.maps)

    def __getitem__(self, i: int) -> dict[str, Any]:
        mirror = self.generator.random() < 0.5
        sample = {
            keys.IMAGE: (self.mirrored if mirror else self.maps)[i].float(),
            keys.ITEM_ID: int(self.labels["item_ids"][i]),
            keys.CATEGORY: int(self.labels["categories"][i]),
            keys.DOMAIN: int(self.labels["domains"][i]),
            keys.INDEX: i,
        }
        sample[keys.ATTRIBUTES] = {
            t: torch.from_numpy(a[i]) for t, a in self.labels["attributes"].items()
        }
        return sample


def encode(frame: pd.DataFrame, recipe: Recipe) -> tuple[dict[str, Any], dict[str, Any]]:
    """Labels of every row as the recipe reads them, and the module's runtime values."""
    vocab = training_vocab(frame, recipe.category, recipe.tasks)
    labels = {
        "item_ids": codes(frame[recipe.item]),
        "categories": vocab.encode_categories(frame[recipe.category])[0],
        "domains": (frame["domain"] == "consumer").to_numpy(np.int64),
        "attributes": {
            task: vocab.encode_attributes(task, frame[column].tolist())[0]
            for task, column in task_columns(recipe.tasks).items()
        },
    }
    runtime = {
        "num_categories": vocab.num_categories,
        "attribute_dims": vocab.attribute_dims,
        "label_counts": dict(vocab.label_counts),
    }
    return labels, runtime


def subset(labels: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    out = {k: v[rows] for k, v in labels.items() if k != "attributes"}
    out["attributes"] = {t: a[rows] for t, a in labels["attributes"].items()}
    return out


def train_recipe(
    recipe: Recipe,
    frame: pd.DataFrame,
    cache: dict[str, torch.Tensor],
    lite0: Any,
    budget: dict[str, Any],
    seed: int,
) -> tuple[pl.LightningModule, float]:
    """The recipe's module trained within ``budget`` (epochs, batch_size, lr, backbone_lr_mult,
    max_batches: batches per epoch, None for all)."""
    pl.seed_everything(seed, workers=True, verbose=False)
    labels, runtime = encode(frame, recipe)
    train_rows = np.flatnonzero(frame["split"].to_numpy() == "train")
    dataset = CachedMaps(cache, train_rows, subset(labels, train_rows), seed)
    sampler_runtime = {
        "item_ids": dataset.labels["item_ids"],
        "categories": dataset.labels["categories"],
        "domains": dataset.labels["domains"],
        "num_samples": len(dataset),
        "batch_size": budget["batch_size"],
        "seed": seed,
    }
    sampler = build("sampler", recipe.sampler, at="sampler", **sampler_runtime)
    loader = DataLoader(
        dataset, batch_size=getattr(sampler, "batch_size", budget["batch_size"]),
        sampler=sampler, drop_last=True, num_workers=0,
    )  # fmt: skip
    tail = TrainableTail(
        lite0.model,
        lite0.data_config,
        budget["frozen_stages"],
        levels=recipe.levels,
    )
    node = {
        "name": recipe.preset,
        "optimizer": {"name": "adamw", "lr": budget["lr"], "weight_decay": 1e-4},
        "scheduler": {"name": "cosine", "warmup_epochs": 0},
        "backbone_lr_mult": budget["backbone_lr_mult"],
        **({"heads": copy.deepcopy(recipe.heads)} if recipe.heads is not None else {}),
        **({"aux_losses": copy.deepcopy(recipe.aux_losses)} if recipe.aux_losses else {}),
        **recipe.module,
    }
    module = build("module", node, at="module", backbone=tail, loss=recipe.loss, **runtime)
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_epochs=budget["epochs"],
        limit_train_batches=budget.get("max_batches") or 1.0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, deterministic=True,
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(module, train_dataloaders=loader)
    return module, time.perf_counter() - start


@torch.no_grad()
def embed(
    module: pl.LightningModule, frame: pd.DataFrame, cache: dict[str, torch.Tensor]
) -> dict[str, np.ndarray]:
    """Float features (the preset's ``eval_feature``) and codes (hash presets) of every row."""
    module.eval()
    domains = torch.as_tensor((frame["domain"] == "consumer").to_numpy(np.int64))
    floats, codes = [], []
    for i in range(0, len(frame), 256):
        batch = {
            keys.IMAGE: cache["maps"][i : i + 256].float(),
            keys.DOMAIN: domains[i : i + 256],
        }
        out = module.embed_batch(batch)
        floats.append(out[keys.EMBEDDING])
        if keys.CODES in out:
            codes.append(out[keys.CODES])
    result = {"float": torch.cat(floats).numpy()}
    if codes:
        result["codes"] = torch.cat(codes).numpy()
    return result
