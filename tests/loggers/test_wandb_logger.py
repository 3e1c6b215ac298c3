"""The wandb logger on its own (offline): flat config, best-metric summary, run id, fallback."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from clothret import registry
from clothret.loggers import wandb_settings
from clothret.loggers.wandb_logger import ClothretWandbLogger, flatten_config
from clothret.loggers.wandb_settings import RUN_ID_FILE


def build(run_dir: Path, **params: Any) -> ClothretWandbLogger:
    return registry.build(
        "logger",
        {"name": "wandb", **params},
        run_dir=str(run_dir),
        experiment="exp",
        job_type="fit",
        config_hash="abcd1234",
    )


def test_flatten_config_dotted_keys() -> None:
    nested = {"loss": {"name": "triplet", "miner": {"name": "batch_hard"}}, "ks": [1, 5], "e": {}}
    assert flatten_config(nested) == {
        "loss.name": "triplet",
        "loss.miner.name": "batch_hard",
        "ks": [1, 5],
        "e": {},
    }


def test_names_group_tags_and_run_id(
    wandb_offline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finished_runs: Any
) -> None:
    monkeypatch.setenv("WANDB_TAGS", "from-env")
    logger = build(tmp_path, tags=["from-logger"])
    logger.log_hyperparams({"loss": {"name": "triplet"}, "tags": ["from-config"]})
    logger.finalize("success")
    (run,) = finished_runs(wandb_offline)
    assert (run.run["name"], run.run["group"], run.run["job_type"]) == (
        "exp-abcd1234",
        "exp",
        "fit",
    )
    assert run.run["project"] == "clothret"
    assert sorted(run.run["tags"]) == ["from-config", "from-env", "from-logger"]
    assert run.config["loss.name"] == "triplet"
    assert (tmp_path / RUN_ID_FILE).read_text().strip() == run.run["id"]


def test_explicit_config_wins_over_environment(
    wandb_offline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finished_runs: Any
) -> None:
    monkeypatch.setenv("WANDB_PROJECT", "env-project")
    monkeypatch.setenv("WANDB_RUN_GROUP", "env-group")
    logger = build(tmp_path, run_name="given", group="grp")
    logger.experiment  # noqa: B018  (starts the run)
    logger.finalize("success")
    (run,) = finished_runs(wandb_offline)
    assert run.run["project"] == "env-project"  # not set in the config: the env decides
    assert (run.run["name"], run.run["group"]) == ("given", "grp")


def test_summary_holds_best_of_monitor_and_its_epoch(
    wandb_offline: Path, tmp_path: Path, finished_runs: Any
) -> None:
    hit1 = [0.2, 0.5, 0.4, 0.5]  # best reached first at epoch 1 (a tie later does not move it)
    val_loss = [0.9, 0.7, 0.8, 0.75]
    logger = build(tmp_path)
    for epoch, (hit, loss) in enumerate(zip(hit1, val_loss, strict=True)):
        logger.log_metrics({"train/loss": 1.0 - hit, "epoch": epoch}, step=10 * epoch)
        logger.log_metrics({"val/hit@1": hit, "val/loss": loss, "epoch": epoch}, step=10 * epoch)
    assert logger.monitor() == ("val/hit@1", "max")
    best = max(range(len(hit1)), key=lambda e: (hit1[e], -e))
    summary = logger.experiment.summary
    assert (summary["best/val/hit@1"], summary["best/epoch"]) == (hit1[best], best)
    # A checkpoint callback monitoring another metric switches the summary to it.
    logger.after_save_checkpoint(SimpleNamespace(monitor="val/loss", mode="min", save_top_k=1))
    logger.finalize("success")
    (run,) = finished_runs(wandb_offline)
    best_loss = min(range(len(val_loss)), key=lambda e: (val_loss[e], e))
    assert run.summary["best/val/loss"] == val_loss[best_loss]
    assert run.summary["best/epoch"] == best_loss
    assert "best/val/hit@1" not in run.summary


def test_explicit_summary_metric(wandb_offline: Path, tmp_path: Path) -> None:
    logger = build(tmp_path, summary_metric="val/loss", summary_mode="min")
    for epoch, loss in enumerate([0.5, 0.3, 0.4]):
        logger.log_metrics({"val/loss": loss, "val/hit@1": 1 - loss, "epoch": epoch})
    logger.after_save_checkpoint(SimpleNamespace(monitor="val/hit@1", mode="max", save_top_k=1))
    summary = logger.experiment.summary
    assert (summary["best/val/loss"], summary["best/epoch"]) == (0.3, 1)
    assert summary.get("best/val/hit@1") is None
    logger.finalize("success")


def test_a_finished_run_reopens_with_the_same_id(
    wandb_offline: Path, tmp_path: Path, finished_runs: Any
) -> None:
    logger = build(tmp_path)
    logger.log_metrics({"val/hit@1": 0.1, "epoch": 0})
    logger.finalize("success")
    assert logger.finished
    logger.log_metrics({"test/hit@1": 0.3, "epoch": 0})  # e.g. trainer.test after trainer.fit
    logger.finalize("success")
    first, second = finished_runs(wandb_offline)
    assert first.run["id"] == second.run["id"]
    assert "test/hit@1" in second.metric_names()


def test_failed_online_start_falls_back_to_offline(
    wandb_offline: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: Any,
    finished_runs: Any,
) -> None:
    """An online run that cannot start (no network) continues offline with one warning."""
    import wandb

    monkeypatch.setenv("WANDB_API_KEY", "k" * 40)
    real_init, modes = wandb.init, []

    def init(**kwargs: Any) -> Any:
        modes.append(kwargs["mode"])
        if kwargs["mode"] == "online":  # stands in for the network; never contacted
            raise wandb.errors.CommError("network is unreachable")
        return real_init(**kwargs)

    monkeypatch.setattr(wandb, "init", init)
    logger = build(tmp_path, mode="online")
    with caplog.at_level(logging.WARNING, logger=wandb_settings.__name__):
        logger.log_metrics({"val/hit@1": 0.25, "epoch": 0})
    logger.finalize("success")
    assert modes == ["online", "offline"]
    messages = [r.getMessage() for r in caplog.records if r.name == wandb_settings.__name__]
    assert len(messages) == 1 and "network is unreachable" in messages[0]
    (run,) = finished_runs(wandb_offline)
    assert run.summary["best/val/hit@1"] == 0.25


def test_disabled_mode_writes_nothing(
    wandb_offline: Path, tmp_path: Path, finished_runs: Any
) -> None:
    logger = build(tmp_path, mode="disabled")
    logger.log_hyperparams({"a": 1})
    logger.log_metrics({"val/hit@1": 0.5, "epoch": 0})
    logger.finalize("success")
    assert finished_runs(wandb_offline) == []
    assert not (tmp_path / RUN_ID_FILE).exists()
