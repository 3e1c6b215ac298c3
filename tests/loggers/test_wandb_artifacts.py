"""``log_index_artifact``: an index directory becomes an ``index`` artifact of a W&B run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clothret import config as config_lib
from clothret.loggers.wandb_artifacts import log_index_artifact
from clothret.runs import config_hash


def write_index(directory: Path) -> Path:
    """A stand-in index directory: meta.json plus two data files in a sub-folder."""
    (directory / "index").mkdir(parents=True)
    (directory / "index" / "vectors.npy").write_bytes(b"\x00" * 64)
    (directory / "model").mkdir()
    (directory / "model" / "model.json").write_text("{}")
    meta = {"type": "exact", "metric": "cosine", "count": 4, "files": {"vectors.npy": {}}}
    (directory / "index" / "meta.json").write_text(json.dumps(meta))
    return directory


def test_index_logged_as_artifact_of_an_index_run(
    wandb_offline: Path, tmp_path: Path, finished_runs: Any
) -> None:
    cfg = config_lib.compose("smoke", ["logger=[csv,wandb]"])
    index_dir = write_index(tmp_path / "out")
    names = log_index_artifact(index_dir, cfg, tmp_path / "run")
    expected_name = f"index-smoke-{config_hash(cfg)}"
    assert names == [expected_name]
    (run,) = finished_runs(wandb_offline)
    assert (run.run["job_type"], run.run["group"]) == ("index", "smoke")
    assert run.config["loss.name"] == "triplet"
    (artifact,) = [a for a in run.artifacts if a["type"] == "index"]
    assert artifact["name"] == expected_name and artifact["aliases"] == ["latest"]
    assert sorted(artifact["files"]) == ["index/meta.json", "index/vectors.npy", "model/model.json"]
    assert artifact["metadata"] == {"type": "exact", "metric": "cosine", "count": 4}


def test_reuses_a_running_logger(wandb_offline: Path, tmp_path: Path, finished_runs: Any) -> None:
    from clothret import registry

    cfg = config_lib.compose("smoke", ["logger=[wandb]"])
    logger = registry.build("logger", {"name": "wandb"}, run_dir=str(tmp_path), job_type="fit")
    logger.log_metrics({"val/hit@1": 0.5, "epoch": 0})
    log_index_artifact(write_index(tmp_path / "out"), cfg, tmp_path, loggers=[logger])
    logger.finalize("success")
    (run,) = finished_runs(wandb_offline)
    assert run.run["job_type"] == "fit"
    assert [a["type"] for a in run.artifacts] == ["index"]


def test_nothing_without_a_wandb_logger(wandb_offline: Path, tmp_path: Path) -> None:
    cfg = config_lib.compose("smoke", [])  # csv only
    assert log_index_artifact(write_index(tmp_path / "out"), cfg, tmp_path) == []
    assert not any(wandb_offline.iterdir())
