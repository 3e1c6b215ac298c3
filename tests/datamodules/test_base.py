"""ManifestDataModule on a tiny manifest: setup, one batch from each loader, vocab, reports."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
import pytorch_lightning as pl
import torch

from clothret.datamodules.base import ManifestDataModule
from clothret.datamodules.images import BadImageError
from clothret.datamodules.vocab import Vocab
from clothret.errors import ConfigError, UnknownNameError
from clothret.keys import ATTRIBUTES, CATEGORY, IMAGE, INDEX, IS_QUERY, ITEM_ID
from clothret.registry import build

from .conftest import tiny_rows, write_manifest

DATA_CONFIG = {"input_size": (3, 32, 24), "mean": (0.5,) * 3, "std": (0.5,) * 3}


class FrameDataModule(ManifestDataModule):
    """The subclass contract: read_manifest returns the frame; params go to the base."""

    def __init__(self, rows: list[dict], **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows = rows

    def read_manifest(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def datamodule(tmp_path: Path, rows: list[dict] | None = None, **kwargs) -> FrameDataModule:
    rows = tiny_rows() if rows is None else rows
    write_manifest(tmp_path, rows)
    options = {
        "root": str(tmp_path),
        "batch_size": 4,
        "eval_batch_size": 4,
        "num_workers": 0,
        "sampler": {"name": "pk", "k": 2},
        "data_config": DATA_CONFIG,
    }
    return FrameDataModule(rows, **{**options, **kwargs})


def test_one_batch_from_each_loader(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, run_dir=str(tmp_path / "run"))
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert train[IMAGE].shape == (4, 3, 32, 24) and IS_QUERY not in train
    assert len(set(train[ITEM_ID].tolist())) == 2  # P=2 items × k=2
    assert train[ATTRIBUTES]["color"].shape == (4, 3)
    for loader in (dm.val_dataloader(), dm.test_dataloader()):
        batches = list(loader)
        assert [len(b[INDEX]) for b in batches] == [4, 4, 1]  # 9 images, last batch kept
        is_query = torch.cat([b[IS_QUERY] for b in batches])
        # grouped by item: each eval item's query, then its two gallery images
        assert is_query.tolist() == [True, False, False] * 3
        assert torch.cat([b[INDEX] for b in batches]).tolist() == list(range(9))
    predict = next(iter(dm.predict_dataloader()))
    assert not predict[IS_QUERY].any()
    assert dm.dataset("gallery").frame["split"].eq("gallery").all()
    assert Vocab.load(tmp_path / "run" / "vocab.json") == dm.vocab


def test_validation_prefers_val_splits(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, tiny_rows(val_items=2))
    dm.setup("fit")
    assert dm.eval_splits("validate") == ("val_query", "val_gallery")
    val = dm.dataset("validate").frame
    assert sorted(val["split"]) == ["val_gallery"] * 4 + ["val_query"] * 2
    test = dm.dataset("test").frame
    assert sorted(test["split"]) == ["gallery"] * 6 + ["query"] * 3
    assert test["item_id"].is_monotonic_increasing  # grouped by item for partial evaluation


def test_runtime_info_from_the_training_split(tmp_path: Path) -> None:
    rows = tiny_rows()
    dm = datamodule(tmp_path, rows)
    train = [r for r in rows if r["split"] == "train"]
    patterns = {v for r in train for v in r["attr_pattern"].split("|") if v}
    assert dm.runtime_info() == {
        "num_categories": len({r["category"] for r in train}),
        "attribute_dims": {"color": len({r["attr_color"] for r in train}), "pattern": 3},
        "label_counts": {
            "color": len(train),
            "pattern": sum(len([v for v in r["attr_pattern"].split("|") if v]) for r in train),
        },
    }
    assert len(patterns) == 3


def test_unknown_eval_category_is_minus_one_and_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = tiny_rows()
    rows[-1]["category"] = rows[-2]["category"] = "hat"
    dm = datamodule(tmp_path, rows)
    with caplog.at_level(logging.WARNING):
        first = torch.cat([b[CATEGORY] for b in dm.test_dataloader()])
        torch.cat([b[CATEGORY] for b in dm.test_dataloader()])
    assert (first == -1).sum() == 2
    reports = [r for r in caplog.records if "unseen in training" in r.getMessage()]
    assert len(reports) == 1 and "'hat' (2)" in reports[0].getMessage()


def test_queries_without_relevant_gallery_are_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [r for r in tiny_rows() if not (r["item_id"] == "e1" and r["split"] == "gallery")]
    with caplog.at_level(logging.WARNING):
        dm = datamodule(tmp_path, rows)
        dm.setup()
    assert dm.report["test_queries_without_relevant"] == 1
    assert any("1 of 3 'query' images have no relevant" in r.getMessage() for r in caplog.records)


def test_attribute_selection(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, attributes=["color"])
    assert dm.runtime_info()["attribute_dims"] == {"color": 3}
    assert set(next(iter(dm.test_dataloader()))[ATTRIBUTES]) == {"color"}


def test_saved_vocab_and_checkpoint_state_are_used(tmp_path: Path) -> None:
    vocab = Vocab(["coat", "dress", "shirt"], {"color": ["red"]}, {"color": 1})
    dm = datamodule(tmp_path, vocab=str(vocab.save(tmp_path / "v.json")))
    assert dm.runtime_info()["num_categories"] == 3
    assert set(dm.dataset("train").categories.tolist()) == {1, 2}  # dress, shirt
    fresh = datamodule(tmp_path / "other")
    fresh.setup()
    fresh.load_state_dict(dm.state_dict())
    assert fresh.vocab == vocab


def test_missing_file_fails_setup_naming_file_and_row(tmp_path: Path) -> None:
    dm = datamodule(tmp_path)
    (tmp_path / "images" / "t1_2.jpg").unlink()
    with pytest.raises(BadImageError, match=r"t1_2.jpg' \(manifest row 5\): file not found"):
        dm.setup()


def test_limit_items(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, tiny_rows(train_items=6, eval_items=5), limit_items=2)
    dm.setup()
    assert dm.frame.groupby("split")["item_id"].nunique().to_dict() == {
        "gallery": 2,
        "query": 2,
        "train": 2,
    }


def test_bad_params_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="on_bad_image='ignore'; expected one of error, skip"):
        datamodule(tmp_path, on_bad_image="ignore")
    with pytest.raises(ConfigError, match="relevance='attribute'"):
        datamodule(tmp_path, relevance="attribute")
    with pytest.raises(UnknownNameError, match="Did you mean 'pk'"):
        datamodule(tmp_path, sampler={"name": "pkk"})
    with pytest.raises(ConfigError, match=r"Unknown parameter 'data\.sampler\.kk'"):
        datamodule(tmp_path, sampler={"name": "pk", "kk": 2}).train_dataloader()


def test_subclass_params_reach_the_base_through_build(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, tiny_rows())
    dm = build(
        "datamodule",
        {"name": "manifest", "path": str(manifest), "batch_size": 6, "sampler": "random"},
        data_config=DATA_CONFIG,
        run_dir=None,
    )
    assert (dm.batch_size, dm.root, dm.data_config) == (6, tmp_path, DATA_CONFIG)
    assert len(next(iter(dm.train_dataloader()))[IMAGE]) == 6


class Probe(pl.LightningModule):
    """Records the sample indices of every batch Lightning feeds it."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)
        self.train_batches: list[list[int]] = []
        self.eval_indices: list[int] = []

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        self.train_batches.append(batch[INDEX].tolist())
        return self.layer(batch[IMAGE].mean((2, 3))).sum()

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self.eval_indices += batch[INDEX].tolist()

    def predict_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        return batch[INDEX]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_lightning_trainer_sets_the_sampler_epoch(tmp_path: Path) -> None:
    dm = datamodule(tmp_path, tiny_rows(train_items=6), seed=3)
    trainer = pl.Trainer(
        max_epochs=3,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=tmp_path,
    )
    probe = Probe()
    trainer.fit(probe, datamodule=dm)
    reference = build("sampler", {"name": "pk", "k": 2}, **_sampler_runtime(dm))
    expected = [b.tolist() for epoch in range(3) for b in reference.rank_batches(epoch)]
    assert probe.train_batches == expected  # each epoch's own order: set_epoch was called
    assert sorted(probe.eval_indices) == sorted(list(range(9)) * 3)
    predicted = torch.cat(trainer.predict(probe, datamodule=dm)).tolist()
    assert predicted == list(range(6))  # the gallery, in order


def _sampler_runtime(dm: ManifestDataModule) -> dict:
    train = dm.dataset("train")
    return {"item_ids": train.item_ids, "batch_size": dm.batch_size, "seed": dm.seed}
