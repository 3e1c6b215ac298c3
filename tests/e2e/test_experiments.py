"""Every experiment config trains for one fast_dev_run step and validates, from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clothret import config
from clothret.cli import main

EXPERIMENTS = sorted(p.stem for p in (config.config_root() / "experiment").glob("*.yaml"))


def real_data_overrides(data: dict, root: Path) -> list[str]:
    """Point an experiment on real photos at generated folders of the same formats."""
    shop, consumer = root / "fashion-product", root / "clothing-cc0"
    if data["name"] == "fashion_product":
        return [f"data.root={shop}"]
    if data["name"] == "cross_domain":
        mapping = root / "cross-domain-categories.csv"
        return [
            f"data.query.root={consumer}",
            f"data.gallery.root={shop}",
            f"data.mapping={mapping}",
        ]
    raise AssertionError(f"no generated folders for data={data['name']}")


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_fast_dev_run(
    experiment: str,
    sample_data: Path,
    real_format_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = config.compose(experiment)
    overrides = [
        f"experiment={experiment}",
        f"run_dir={tmp_path / 'run'}",
        "trainer.fast_dev_run=true",
        "trainer.enable_progress_bar=false",
        "data.num_workers=0",
    ]
    if cfg.data.name == "synthetic":
        overrides.append(f"data.root={sample_data}")
    else:
        overrides += real_data_overrides(dict(cfg.data), real_format_data)
    assert main(["fit", *overrides]) == 0
    metrics_path = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert metrics_path == tmp_path / "run" / "metrics.json"
    result = json.loads(metrics_path.read_text())
    assert result["command"] == "fit"
    losses = [v for k, v in result["metrics"].items() if k.startswith("train/") and "loss" in k]
    assert losses and all(v is not None for v in losses)
    assert (tmp_path / "run" / "config.yaml").is_file()


def test_clothingnet_with_pca_projection_fits_it_before_training(
    sample_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ClothingNet's fitted PCA reduction: fitted on training features in on_fit_start."""
    import torch

    run_dir = tmp_path / "run"
    argv = [
        "fit", "experiment=clothingnet", f"data.root={sample_data}", f"run_dir={run_dir}",
        "module.heads.embedding.projection=pca", "module.heads.embedding.mid_dim=64",
        "module.heads.embedding.high_dim=64", "module.head_fit_batches=4",
        "trainer.max_epochs=1", "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
        "trainer.enable_progress_bar=false", "data.num_workers=0",
    ]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    fitted = [v for k, v in state.items() if k.startswith("heads.embedding") and "fitted" in k]
    assert fitted and all(bool(v) for v in fitted)
    components = state["heads.embedding.mid.components"]
    gram = components @ components.T  # principal axes are orthonormal
    assert torch.allclose(gram, torch.eye(gram.shape[0], dtype=gram.dtype), atol=1e-4)
