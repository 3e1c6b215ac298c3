"""``clothret fit ... logger=[csv,wandb]`` offline: what the W&B run files hold afterwards.

One short smoke fit (2 epochs) is shared by the tests below; the CSV logger of the same run is
the reference for metric values.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from clothret.cli import main
from clothret.loggers import wandb_settings
from clothret.loggers.wandb_offline import OfflineRun, offline_runs, read_offline_run
from clothret.runs import config_hash

N_QUERIES, K = 3, 4


@dataclass
class FitRun:
    run_dir: Path
    wandb_dir: Path
    overrides: list[str]
    wandb: OfflineRun


@pytest.fixture(scope="module")
def fit_run(
    module_wandb_offline: Path, sample_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> FitRun:
    import wandb

    run_dir = tmp_path_factory.mktemp("fit") / "run"
    overrides = [
        "experiment=smoke",
        "backbone=tiny_convnet",
        f"data.root={sample_root}",
        "data.num_items=16",
        "data.image_size=64",
        "data.batch_size=16",
        "data.num_workers=0",
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=2",
        "trainer.log_every_n_steps=1",
        "logger=[csv,wandb]",
        "logger.wandb.tags=[ci]",
        "logger.wandb.log_model=true",
        "tags=[smoke-test]",
        "callbacks=[retrieval_metrics,checkpoint,lr_monitor,retrieval_examples]",
        f"callbacks.retrieval_examples.n_queries={N_QUERIES}",
        f"callbacks.retrieval_examples.k={K}",
        f"run_dir={run_dir}",
    ]
    assert main(["fit", *overrides]) == 0
    wandb.teardown()  # flush the run's files
    (path,) = offline_runs(module_wandb_offline)
    return FitRun(run_dir, module_wandb_offline, overrides, read_offline_run(path))


def test_run_named_grouped_and_tagged(fit_run: FitRun) -> None:
    saved = OmegaConf.load(fit_run.run_dir / "config.yaml")
    run = fit_run.wandb.run
    assert run["name"] == f"smoke-{config_hash(saved)}"
    assert (run["group"], run["job_type"], run["project"]) == ("smoke", "fit", "clothret")
    assert sorted(run["tags"]) == ["ci", "smoke-test"]
    assert (fit_run.run_dir / "wandb_run_id.txt").read_text().strip() == run["id"]


def test_config_logged_with_flat_dotted_keys(fit_run: FitRun) -> None:
    saved = OmegaConf.to_container(OmegaConf.load(fit_run.run_dir / "config.yaml"), resolve=True)
    # pandas' json_normalize is the reference flattening (lists stay values)
    expected = pd.json_normalize(saved, sep=".").iloc[0].to_dict()
    config = fit_run.wandb.config
    for key, value in expected.items():
        if isinstance(value, dict) and not value:
            continue  # json_normalize keeps empty mappings as values too; not compared
        assert config[key] == value, key
    assert config["loss.name"] == "triplet" and config["backbone.name"] == "tiny_convnet"
    assert config["data.name"] == "synthetic" and config["module.heads.embedding.dim"] == 128


def test_metric_names_are_stable(fit_run: FitRun) -> None:
    names = fit_run.wandb.metric_names()
    expected = {"train/loss", "train/triplet/loss", "lr-AdamW/pg1", "val/examples", "epoch"}
    expected |= {f"val/{m}@{k}" for m in ("hit", "precision", "map") for k in (1, 5, 10)}
    assert expected <= names


def test_summary_holds_best_monitored_value_and_epoch(fit_run: FitRun) -> None:
    csv = pd.read_csv(fit_run.run_dir / "csv" / "metrics.csv")
    val = csv.dropna(subset=["val/hit@1"]).sort_values("epoch")
    best = val.loc[val["val/hit@1"].idxmax()]  # first epoch reaching the maximum
    summary = fit_run.wandb.summary
    assert summary["best/val/hit@1"] == pytest.approx(best["val/hit@1"])
    assert summary["best/epoch"] == int(best["epoch"])
    assert len(val) == 2


def test_checkpoints_logged_as_model_artifacts(fit_run: FitRun) -> None:
    models = [a for a in fit_run.wandb.artifacts if a["type"] == "model"]
    assert models and all(a["files"] == ["model.ckpt"] for a in models)
    assert any("best" in a["aliases"] for a in models)
    names = {a["metadata"]["original_filename"] for a in models}
    assert names <= {p.name for p in (fit_run.run_dir / "checkpoints").iterdir()}


def test_examples_table_and_grid(fit_run: FitRun) -> None:
    assert sorted(p.name for p in (fit_run.run_dir / "examples").iterdir()) == [
        "epoch000.png",
        "epoch001.png",
    ]
    tables = sorted(
        (fit_run.wandb.path / "files" / f)
        for f in fit_run.wandb.files
        if f.startswith("media/table/val/examples")
    )
    assert len(tables) == 2  # one per validation epoch
    table = json.loads(tables[-1].read_text())
    columns: list[str] = table["columns"]
    assert len(table["data"]) == N_QUERIES
    for rank in range(1, K + 1):
        assert {f"top{rank}", f"correct{rank}", f"distance{rank}"} <= set(columns)
    for row in table["data"]:
        cells = dict(zip(columns, row, strict=True))
        flags = [cells[f"correct{r}"] for r in range(1, K + 1)]
        distances = [cells[f"distance{r}"] for r in range(1, K + 1)]
        assert cells["hits"] == sum(flags)
        assert distances == sorted(distances)


def test_resume_continues_the_same_wandb_run(fit_run: FitRun) -> None:
    import wandb

    before = set(offline_runs(fit_run.wandb_dir))
    overrides = [o for o in fit_run.overrides if not o.startswith("trainer.max_epochs")]
    assert main(["fit", *overrides, "trainer.max_epochs=3", "ckpt_path=last"]) == 0
    wandb.teardown()
    (resumed,) = set(offline_runs(fit_run.wandb_dir)) - before
    run = read_offline_run(resumed)
    assert run.run["id"] == fit_run.wandb.run["id"]
    epochs = {row["epoch"] for row in run.history if "val/hit@1" in row}
    assert max(epochs) == 2 and 0 not in epochs  # continued from the checkpoint


def test_online_without_api_key_runs_offline_with_one_message(
    wandb_isolated: Path,
    fast_run: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No WANDB_MODE and no credentials: one warning, an offline run, exit status 0."""
    import wandb

    assert not wandb_settings.has_api_key()  # so nothing below can try the network
    overrides = [*fast_run, "trainer.max_epochs=1", "trainer.limit_val_batches=1"]
    with caplog.at_level(logging.WARNING):
        assert main(["fit", *overrides, "logger=[wandb]", "logger.wandb.mode=online"]) == 0
    wandb.teardown()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("clothret.loggers")]
    assert len(messages) == 1 and "no API key" in messages[0]
    (path,) = offline_runs(tmp_path / "run" / "wandb")  # default location: the run directory
    assert "val/hit@1" in read_offline_run(path).metric_names()
    assert (tmp_path / "run" / "metrics.json").is_file()
