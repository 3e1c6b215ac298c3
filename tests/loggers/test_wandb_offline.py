"""The offline-run reader gives back exactly what a plain ``wandb`` run logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from clothret.loggers.wandb_offline import iter_record_bytes, offline_runs, read_offline_run


@pytest.fixture
def logged_run(wandb_offline: Path) -> Path:
    """An offline run logged with wandb's own API: known config, history, summary, artifact."""
    import wandb

    long_text = "abcdefghij" * 10_000  # 100 kB: one record spans several 32 kB blocks
    run = wandb.init(
        project="reader-test",
        name="known",
        group="g1",
        job_type="fit",
        tags=["t1", "t2"],
        id="reader01",
        config={"loss.name": "triplet", "nested": {"a": 1}, "long": long_text},
    )
    for step, value in enumerate([0.25, 0.75, 0.5]):
        run.log({"val/hit@1": value, "epoch": step})
    run.summary["best/val/hit@1"] = 0.75
    run.summary["dropped"] = 1
    del run.summary["dropped"]
    (wandb_offline / "payload.txt").write_text("index bytes")
    artifact = wandb.Artifact("idx", type="index", metadata={"dim": 8})
    artifact.add_file(str(wandb_offline / "payload.txt"))
    run.log_artifact(artifact)
    run.finish()
    wandb.teardown()  # finish() may return before the run's file is fully written
    (found,) = offline_runs(wandb_offline)
    return found


def test_reads_run_config_history_summary_artifacts(logged_run: Path) -> None:
    run = read_offline_run(logged_run)
    assert run.run["id"] == "reader01"
    assert (run.run["name"], run.run["group"], run.run["job_type"]) == ("known", "g1", "fit")
    assert run.run["project"] == "reader-test" and run.run["tags"] == ["t1", "t2"]
    assert run.config["loss.name"] == "triplet"
    assert run.config["nested"] == {"a": 1}
    assert run.config["long"] == "abcdefghij" * 10_000
    logged = [(row["val/hit@1"], row["epoch"]) for row in run.history if "val/hit@1" in row]
    assert logged == [(0.25, 0), (0.75, 1), (0.5, 2)]
    assert run.summary["best/val/hit@1"] == 0.75
    assert run.summary["val/hit@1"] == 0.5  # last logged value
    assert "dropped" not in run.summary
    (artifact,) = [a for a in run.artifacts if a["type"] == "index"]
    assert artifact["name"] == "idx" and artifact["metadata"] == {"dim": 8}
    assert artifact["files"] == ["payload.txt"]


def test_corrupt_record_is_detected(logged_run: Path, tmp_path: Path) -> None:
    (log,) = logged_run.glob("run-*.wandb")
    data = bytearray(log.read_bytes())
    assert sum(1 for _ in iter_record_bytes(log)) > 5
    data[200] ^= 0xFF  # inside the first records' payload
    broken = tmp_path / "run-broken.wandb"
    broken.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt record"):
        list(iter_record_bytes(broken))


def test_not_a_transaction_log(tmp_path: Path) -> None:
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a W&B transaction log"):
        list(iter_record_bytes(path))
