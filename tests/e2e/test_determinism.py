"""Same seed, same numbers: two CPU runs, and the backbone's memory/speed options.

``seed`` reaches python, numpy and torch (``seed_everything``), the DataLoader workers (Lightning's
worker init), the samplers (they plan each epoch from ``(seed, epoch)``) and the per-batch seeds
of the ``preemption`` callback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from clothret import config, keys
from clothret.experiment import build_backbone, build_datamodule, build_module

pytestmark = pytest.mark.slow


def _fit(sample_data: Path, run_dir: Path, seed: int) -> dict:
    argv = [
        "fit",
        "experiment=smoke",
        f"data.root={sample_data}",
        f"run_dir={run_dir}",
        f"seed={seed}",
        "backbone=tiny_convnet",
        "data.limit_items=20",
        "data.batch_size=16",
        "data.num_workers=2",  # worker seeding is part of what is checked
        "trainer.max_epochs=2",
        "trainer.limit_train_batches=3",
        "trainer.enable_progress_bar=false",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "clothret.cli", *argv], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(Path(done.stdout.strip().splitlines()[-1]).read_text())["metrics"]


def test_two_runs_with_the_same_seed_give_the_same_metrics(sample_data: Path, tmp_path: Path):
    first = _fit(sample_data, tmp_path / "a", seed=3)
    second = _fit(sample_data, tmp_path / "b", seed=3)
    other = _fit(sample_data, tmp_path / "c", seed=4)
    assert "val/map@10" in first and "train/loss" in first
    assert second == first
    assert other["train/loss"] != first["train/loss"]  # the seed does reach the run


def _loss_and_grads(cfg, batch: dict) -> tuple[float, dict[str, torch.Tensor]]:
    """The training step's loss (sum of weighted terms) and the gradient of every parameter."""
    torch.manual_seed(0)
    module = build_module(cfg, build_backbone(cfg), {})
    module.train()
    outputs = module(batch[keys.IMAGE], batch.get(keys.DOMAIN))
    total = sum(term.weight * term(outputs, batch) for term in module.loss_terms.values())
    total.backward()
    return float(total), {n: p.grad for n, p in module.named_parameters() if p.grad is not None}


def test_grad_checkpointing_and_compile_keep_the_training_step(sample_data: Path) -> None:
    base = [f"data.root={sample_data}", "data.limit_items=8", "data.num_workers=0"]
    base.append("data.batch_size=16")
    cfg = config.compose("smoke", base)
    data = build_datamodule(cfg, build_backbone(cfg), None, "fit")
    batch = next(iter(data.train_dataloader()))
    loss, grads = _loss_and_grads(cfg, batch)
    assert loss > 0 and len(grads) > 60  # resnet18 + embedding head

    for option in ("backbone.grad_checkpointing=true", "backbone.compile=true"):
        other_loss, other_grads = _loss_and_grads(config.compose("smoke", [*base, option]), batch)
        assert other_loss == pytest.approx(loss, rel=1e-4), option
        assert other_grads.keys() == grads.keys()
        for name, grad in grads.items():
            torch.testing.assert_close(other_grads[name], grad, rtol=1e-3, atol=1e-5)
