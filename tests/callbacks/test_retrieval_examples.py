"""Retrieval examples: ranking against brute force, the grid picture, the callback in a Trainer
(CSV + TensorBoard), and two processes giving the same examples as one."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from PIL import Image
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from clothret import keys
from clothret.callbacks.example_grid import (
    CAPTION_HEIGHT,
    COLORS,
    GAP,
    example_grid,
    rank_examples,
    select_queries,
)
from clothret.callbacks.retrieval_examples import RetrievalExamples
from clothret.errors import ConfigError


def make_data(n: int = 23, dim: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    """Gathered eval outputs: the first 8 rows are queries; 5 items, 2 categories."""
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, dim, generator=g)
    feats[20] = feats[12]  # a tie between two gallery images
    items = torch.arange(n) % 5
    return {
        keys.EMBEDDING: feats,
        keys.INDEX: torch.arange(n),
        keys.IS_QUERY: torch.arange(n) < 8,
        keys.ITEM_ID: items,
        keys.CATEGORY: items % 2,
    }


def brute_force(data: dict[str, torch.Tensor], query: int, k: int, metric: str, label: str):
    """Top-k of one query by looping over the gallery (ties: lower index first)."""
    feats = data[keys.EMBEDDING].double().numpy()
    scored = []
    for g in range(len(feats)):
        if data[keys.IS_QUERY][g]:
            continue
        a, b = feats[query], feats[g]
        if metric == "cosine":
            d = 1 - float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b))
        else:
            d = float(np.sqrt(((a - b) ** 2).sum()))
        scored.append((d, g))
    scored.sort()
    top = scored[:k]
    labels = data[label]
    return (
        [g for _, g in top],
        [bool(labels[g] == labels[query]) for _, g in top],
        [d for d, _ in top],
    )


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("label", [keys.ITEM_ID, keys.CATEGORY])
def test_rank_examples_matches_brute_force(metric: str, label: str) -> None:
    data = make_data()
    examples = rank_examples(data, n_queries=4, k=6, metric=metric, label_key=label, seed=3)
    chosen = select_queries(8, 4, seed=3)
    assert [e.query for e in examples] == chosen.tolist()
    for e in examples:
        gallery, correct, distances = brute_force(data, e.query, 6, metric, label)
        assert e.gallery == gallery and e.correct == correct
        np.testing.assert_allclose(e.distances, distances, atol=1e-5)
        assert e.label == int(data[label][e.query])


def test_tie_keeps_lower_gallery_index_first() -> None:
    data = make_data()
    data[keys.EMBEDDING][0] = data[keys.EMBEDDING][12]  # query 0 sits on the tied pair
    (example,) = rank_examples(data, 1, 2, "euclidean", keys.ITEM_ID, seed=None)
    assert example.gallery == [12, 20]


def test_query_choice_is_fixed_by_seed() -> None:
    assert select_queries(10, 3, seed=None).tolist() == [0, 1, 2]
    first = select_queries(50, 8, seed=7)
    assert first.tolist() == select_queries(50, 8, seed=7).tolist()
    assert len(set(first.tolist())) == 8 and first.tolist() == sorted(first.tolist())
    assert select_queries(50, 8, seed=8).tolist() != first.tolist()
    assert select_queries(3, 8, seed=0).tolist() == [0, 1, 2]  # fewer queries than asked


def test_grid_frames_results_green_or_red() -> None:
    data = make_data()
    examples = rank_examples(data, 3, 4, "cosine", keys.CATEGORY, seed=0)
    images = {i: Image.new("RGB", (30, 20), (0, 0, 255)) for i in range(23)}
    size = 40
    grid = example_grid(examples, images, size)
    cell_w, cell_h = size + GAP, size + CAPTION_HEIGHT + GAP
    assert grid.size == (5 * cell_w + GAP, 3 * cell_h + GAP)
    pixels = np.asarray(grid)
    for r, e in enumerate(examples):
        y = GAP + r * cell_h + 1  # inside the frame's top edge
        assert tuple(pixels[y, GAP + 1]) == COLORS[None]
        for c, ok in enumerate(e.correct, start=1):
            assert tuple(pixels[y, GAP + c * cell_w + 1]) == COLORS[ok]
        assert tuple(pixels[GAP + r * cell_h + size // 2, GAP + size // 2]) == (0, 0, 255)


def test_invalid_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="cosine or euclidean"):
        RetrievalExamples(metric="dot")
    with pytest.raises(ConfigError, match="must be positive"):
        RetrievalExamples(k=0)


class Points(Dataset):
    """Eval samples with fixed embeddings and a small solid-colour raw image each."""

    def __init__(self, data: dict[str, torch.Tensor]) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data[keys.INDEX])

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {
            keys.IMAGE: torch.zeros(3, 4, 4),
            **{key: self.data[key][i] for key in (keys.INDEX, keys.IS_QUERY, keys.ITEM_ID)},
            keys.CATEGORY: self.data[keys.CATEGORY][i],
        }

    def load(self, i: int) -> Image.Image:
        return Image.new("RGB", (24, 32), (10 * i % 255, 100, 50))


class Lookup(pl.LightningModule):
    """Embeds sample ``i`` as row ``i`` of a fixed table (one trainable dummy weight)."""

    def __init__(self, feats: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("feats", feats)
        self.w = torch.nn.Parameter(torch.zeros(()))

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        return (self.w - 1) ** 2

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, Any]:
        outputs = {key: batch[key] for key in (keys.INDEX, keys.IS_QUERY, keys.ITEM_ID)}
        return {keys.EMBEDDING: self.feats[batch[keys.INDEX]] + 0 * self.w, **outputs}

    test_step = validation_step

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_callback_in_a_trainer_writes_png_and_tensorboard_image(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = make_data()
    loader = DataLoader(Points(data), batch_size=5)
    callback = RetrievalExamples(every_n_epochs=2, n_queries=3, k=4, thumbnail_size=32)
    tensorboard = TensorBoardLogger(tmp_path, name="tb", version="")
    trainer = pl.Trainer(
        max_epochs=3,
        limit_train_batches=1,
        num_sanity_val_steps=1,
        logger=[CSVLogger(tmp_path, name="csv", version=""), tensorboard],
        callbacks=[callback],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    module = Lookup(data[keys.EMBEDDING])
    trainer.fit(module, train_dataloaders=loader, val_dataloaders=loader)
    # every second epoch (epoch index 1), not the sanity check, not epochs 0 and 2
    assert sorted(p.name for p in (tmp_path / "examples").iterdir()) == ["epoch001.png"]
    expected = rank_examples(data, 3, 4, "cosine", keys.ITEM_ID, seed=0)
    assert [asdict(e) for e in callback.last_examples] == [asdict(e) for e in expected]
    trainer.test(module, dataloaders=loader)
    assert (tmp_path / "examples" / "test_epoch003.png").is_file()
    png = Image.open(tmp_path / "examples" / "epoch001.png")
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0})
    events.Reload()
    assert {"val/examples", "test/examples"} <= set(events.Tags()["images"])
    (image,) = events.Images("val/examples")
    assert (image.width, image.height) == png.size and image.step == trainer.global_step - 1


def _ddp_worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    """One process of a 2-process evaluation: its DistributedSampler share through the hooks."""
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    data = make_data()
    dataset = Points(data)
    sampler = DistributedSampler(dataset, world, rank, shuffle=False)  # pads by repeating
    callback = RetrievalExamples(n_queries=4, k=5, seed=1, run_dir=out_dir)
    trainer = SimpleNamespace(
        sanity_checking=False,
        state=SimpleNamespace(fn="fit"),
        current_epoch=0,
        global_step=0,
        is_global_zero=rank == 0,
        default_root_dir=out_dir,
        loggers=[],
        datamodule=None,
        val_dataloaders=DataLoader(dataset, sampler=sampler),
    )
    callback.on_validation_epoch_start(trainer, None)
    for i, batch in enumerate(DataLoader(dataset, batch_size=4, sampler=sampler)):
        outputs = {key: batch[key] for key in (keys.INDEX, keys.IS_QUERY, keys.ITEM_ID)}
        outputs[keys.EMBEDDING] = data[keys.EMBEDDING][batch[keys.INDEX]]
        callback.on_validation_batch_end(trainer, None, outputs, batch, i)
    callback.on_validation_epoch_end(trainer, None)
    if rank == 0:
        examples = [asdict(e) for e in callback.last_examples]
        Path(out_dir, "examples.json").write_text(json.dumps(examples))
    else:
        assert callback.last_path is None  # only process 0 draws
    dist.destroy_process_group()


def test_two_processes_give_the_examples_of_one(tmp_path: Path) -> None:
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    expected = rank_examples(make_data(), 4, 5, "cosine", keys.ITEM_ID, seed=1)
    got = json.loads((tmp_path / "examples.json").read_text())
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (g["query"], g["gallery"], g["correct"]) == (e.query, e.gallery, e.correct)
        np.testing.assert_allclose(g["distances"], e.distances, atol=1e-6)
    assert (tmp_path / "examples" / "epoch000.png").is_file()
