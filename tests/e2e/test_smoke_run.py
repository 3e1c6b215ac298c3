"""The smoke experiment end to end: train, evaluate, index the gallery, search with a photo.

Training must clearly beat the untrained model on consumer -> shop retrieval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from clothret import config
from clothret.cli import main
from clothret.experiment import build_experiment
from clothret.sample_data.first_query import first_query

pytestmark = pytest.mark.slow

QUIET = ["trainer.enable_progress_bar=false", "data.num_workers=0"]


def _last_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def _untrained_hit_at_1(root: Path, run_dir: Path) -> float:
    cfg = config.compose("smoke", [f"data.root={root}", *QUIET])
    experiment = build_experiment(cfg, run_dir, "validate", job_type="validate")
    (result,) = experiment.trainer.validate(experiment.module, datamodule=experiment.datamodule)
    return float(result["val/hit@1"])


def test_smoke_trains_evaluates_indexes_and_searches(
    sample_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    untrained = _untrained_hit_at_1(sample_data, tmp_path / "untrained")
    fit_dir = tmp_path / "fit"
    assert (
        main(["fit", "experiment=smoke", f"data.root={sample_data}", f"run_dir={fit_dir}", *QUIET])
        == 0
    )
    fit = json.loads(Path(_last_line(capsys)).read_text())
    trained = fit["metrics"]["val/hit@1"]
    assert trained >= untrained + 0.05 and trained >= 2 * untrained, (trained, untrained)
    checkpoint = fit_dir / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file() and fit["best_checkpoint"]

    # the saved config reproduces the composed one
    saved = OmegaConf.load(fit_dir / "config.yaml")
    assert saved.data.root == str(sample_data) and saved.experiment == "smoke"

    test_dir = tmp_path / "test"
    argv = [
        "test",
        "--config",
        str(fit_dir / "config.yaml"),
        f"ckpt_path={checkpoint}",
        f"run_dir={test_dir}",
        *QUIET,
    ]
    assert main(argv) == 0
    tested = json.loads(Path(_last_line(capsys)).read_text())
    # the sample data has no separate validation split: test = the last validation
    assert tested["metrics"]["test/hit@1"] == pytest.approx(trained)

    index_dir = tmp_path / "index"
    argv = [
        "index",
        "--config",
        str(fit_dir / "config.yaml"),
        f"ckpt_path={checkpoint}",
        f"run_dir={tmp_path / 'index-run'}",
        "--out",
        str(index_dir),
        *QUIET,
    ]
    assert main(argv) == 0
    capsys.readouterr()
    query = first_query(sample_data)
    assert main(["search", str(index_dir), str(query), "--k", "3", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["query"] == str(query)
    assert [hit["rank"] for hit in result["results"]] == [1, 2, 3]
    distances = [hit["distance"] for hit in result["results"]]
    assert distances == sorted(distances)
    gallery = (index_dir / "gallery" / "items.csv").read_text()
    assert all(hit["path"] in gallery for hit in result["results"])
