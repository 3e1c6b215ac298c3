"""Scaling through Lightning: trainer options reach the Trainer, and 2-process CPU DDP (gloo).

What the 2-process runs compare with one process:

* evaluation: the same weights give identical validation metrics (an evaluation set of 125
  images, so the distributed sampler pads one process's share; one thread per process in both,
  as float32 distances differ in the last bits with the thread count);
* the training loss under ``loss.cross_device: true``: each process's loss is the loss of its
  anchors mined against both processes' embeddings, recomputed here by brute force, and their
  mean is the one-process loss on the concatenated batch;
* the learning rate: the scaling rule uses per-device batch × processes × accumulation.

Training itself differs by design: each process trains on its own half of the epoch's batches and
BatchNorm normalises with per-process statistics (SyncBatchNorm needs CUDA), so the weights after
an epoch are not those of a one-process run.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from pytorch_lightning.plugins import TorchSyncBatchNorm
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy

from clothret import config, keys
from clothret.experiment import build_backbone, build_experiment, build_module, build_trainer
from clothret.losses import TripletLoss

LR, BASE_BATCH, BATCH = 1e-3, 32, 16
# Runs the CLI after adding a callback that saves each process's first training batch, the
# weights it started from and its loss to <argv[1]>/rank<r>.pt. A file, not `python -c`: DDP
# starts the other process by re-running this script.
RECORD_DRIVER = """
import sys
import pytorch_lightning as pl
import torch
from clothret import keys
from clothret.cli import main
from clothret.commands import train

class Record(pl.Callback):
    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx == 0:
            torch.save(
                {
                    "images": batch[keys.IMAGE],
                    "items": batch[keys.ITEM_ID],
                    "loss": outputs["loss"].detach(),
                    "state": self.state,
                    "lr": [g["lr"] for g in trainer.optimizers[0].param_groups],
                    "world": trainer.world_size,
                },
                f"{sys.argv[1]}/rank{trainer.global_rank}.pt",
            )

build = train.build_experiment

def build_recorded(*args, **kwargs):
    experiment = build(*args, **kwargs)
    experiment.trainer.callbacks.append(Record())
    return experiment

train.build_experiment = build_recorded
sys.exit(main(sys.argv[2:]))
"""


def odd_manifest(sample_data: Path, out: Path) -> Path:
    """40 training items and 21 evaluation items of the sample data, minus one query image:
    62 queries + 63 gallery images, an evaluation set no number of processes > 1 divides."""
    frame = pd.read_csv(sample_data / "manifest.csv", keep_default_na=False, dtype=str)
    train = sorted(frame.loc[frame["split"] == "train", "item_id"].unique())[:40]
    evaluation = sorted(frame.loc[frame["split"] == "query", "item_id"].unique())[:21]
    kept = frame[frame["item_id"].isin([*train, *evaluation])]
    kept = kept.drop(kept.index[kept["split"] == "query"][0])
    kept.to_csv(out, index=False)
    return out


def _args(sample_data: Path, manifest: Path, *extra: str) -> list[str]:
    return [
        "experiment=smoke",
        "data=manifest",
        f"data.path={manifest}",
        f"data.root={sample_data}",
        f"data.batch_size={BATCH}",
        "data.eval_batch_size=32",
        "data.num_workers=0",
        "backbone=tiny_convnet",
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        "module.scheduler={name: none}",
        "module.lr_scaling=linear",
        f"module.base_batch_size={BASE_BATCH}",
        *extra,
    ]


DDP = ["trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp"]


def _clothret(*argv: str, driver: Path | None = None) -> dict:
    """Run ``clothret ARGV`` in a new process; returns its metrics.json."""
    command = [sys.executable, str(driver)] if driver else [sys.executable, "-m", "clothret.cli"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # what Lightning gives 2 processes on 2 cores
    done = subprocess.run([*command, *argv], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(Path(done.stdout.strip().splitlines()[-1]).read_text())


# ---------------------------------------------------------------------------- trainer options
def _trainer(*overrides: str, tmp_path: Path):
    cfg = config.compose("smoke", list(overrides))
    return build_trainer(cfg, tmp_path, [], [])


def test_scale_options_pass_through_to_the_trainer(tmp_path: Path) -> None:
    trainer = _trainer(
        *DDP,
        "trainer.num_nodes=1",
        "trainer.precision=bf16-mixed",
        "trainer.accumulate_grad_batches=3",
        "trainer.sync_batchnorm=true",
        "trainer.strategy_options={find_unused_parameters: true, static_graph: false}",
        tmp_path=tmp_path,
    )
    assert isinstance(trainer.strategy, DDPStrategy)
    assert trainer.strategy._ddp_kwargs == {"find_unused_parameters": True, "static_graph": False}
    assert trainer.num_devices == 2 and trainer.num_nodes == 1 and trainer.world_size == 2
    assert trainer.precision == "bf16-mixed" and trainer.accumulate_grad_batches == 3
    assert isinstance(trainer.strategy._layer_sync, TorchSyncBatchNorm)


def test_spawn_strategy_and_nodes(tmp_path: Path) -> None:
    spawn = _trainer(
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.strategy=ddp_spawn",
        "trainer.num_nodes=2",
        tmp_path=tmp_path,
    )
    assert spawn.strategy._start_method == "spawn" and spawn.world_size == 4


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (FSDP does)")
def test_fsdp_strategy_options(tmp_path: Path) -> None:
    trainer = _trainer(
        "trainer.accelerator=gpu",
        "trainer.devices=1",
        "trainer.strategy=fsdp",
        "trainer.strategy_options={sharding_strategy: SHARD_GRAD_OP}",
        tmp_path=tmp_path,
    )
    assert isinstance(trainer.strategy, FSDPStrategy)
    assert trainer.strategy.sharding_strategy.name == "SHARD_GRAD_OP"


def test_lr_scaling_uses_batch_times_accumulation(sample_data: Path, tmp_path: Path) -> None:
    """One process, sqrt rule: lr × sqrt(16 per batch × 1 process × 4 accumulated / 32)."""
    manifest = odd_manifest(sample_data, tmp_path / "manifest.csv")
    overrides = ["module.lr_scaling=sqrt", "trainer.accumulate_grad_batches=4"]
    cfg = config.compose("smoke", [*_args(sample_data, manifest)[1:], *overrides])
    cfg.trainer.fast_dev_run = 4
    experiment = build_experiment(cfg, tmp_path, "fit", job_type="fit")
    experiment.trainer.fit(experiment.module, datamodule=experiment.datamodule)
    lrs = [g["lr"] for g in experiment.trainer.optimizers[0].param_groups]
    assert lrs == pytest.approx([LR * math.sqrt(BATCH * 1 * 4 / BASE_BATCH)] * 2)


# ---------------------------------------------------------------------------- 2-process runs
@pytest.fixture(scope="module")
def manifest(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return odd_manifest(sample_data, tmp_path_factory.mktemp("odd") / "manifest.csv")


@pytest.mark.slow
def test_two_process_fit_validates_like_one_process(
    sample_data: Path, manifest: Path, tmp_path: Path
) -> None:
    runs_root = tmp_path / "runs"
    fit = _clothret(
        "fit",
        *_args(sample_data, manifest, *DDP),
        f"runs_root={runs_root}",
        "trainer.limit_train_batches=4",
        "trainer.accumulate_grad_batches=2",
    )
    # Both processes used one run directory (the second one inherits it).
    assert [p.name for p in (runs_root / "smoke").iterdir()] == [Path(fit["run_dir"]).name]
    last = torch.load(fit["last_checkpoint"], map_location="cpu", weights_only=True)
    assert last["global_step"] == 2  # 4 batches per process, 2 accumulated per step
    scaled = LR * BATCH * 2 * 2 / BASE_BATCH  # 2 processes, 2 accumulated batches
    (optimizer,) = last["optimizer_states"]
    assert [g["lr"] for g in optimizer["param_groups"]] == pytest.approx([scaled] * 2)

    single = _clothret(
        "validate",
        *_args(sample_data, manifest),
        f"ckpt_path={fit['last_checkpoint']}",
        f"run_dir={tmp_path / 'validate-1'}",
    )
    two = {k: v for k, v in fit["metrics"].items() if k.startswith("val/")}
    one = {k: v for k, v in single["metrics"].items() if k.startswith("val/")}
    assert "val/map@10" in one and one == two


def _batch_hard(emb: torch.Tensor, items: torch.Tensor, anchors, candidates, margin: float):
    """Mean over ``anchors`` of [max d(a, p) − min d(a, n) + margin]₊ by explicit loops."""
    losses = []
    for a in anchors:
        d = {j: math.dist(emb[a].tolist(), emb[j].tolist()) for j in candidates}
        pos = [d[j] for j in candidates if j != a and items[j] == items[a]]
        neg = [d[j] for j in candidates if items[j] != items[a]]
        if pos and neg:
            losses.append(max(0.0, max(pos) - min(neg) + margin))
    return sum(losses) / len(losses)


@pytest.mark.slow
def test_cross_device_mining_uses_the_other_process_embeddings(
    sample_data: Path, manifest: Path, tmp_path: Path
) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(RECORD_DRIVER)
    out = tmp_path / "record"
    out.mkdir()
    argv = [
        *_args(sample_data, manifest, *DDP),
        "loss.cross_device=true",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=0",
        "callbacks=[preemption]",
        f"run_dir={tmp_path / 'run'}",
    ]
    _clothret(str(out), "fit", *argv, driver=driver)
    ranks = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert ranks[0]["lr"] == pytest.approx([LR * BATCH * 2 / BASE_BATCH] * 2)

    # The same module and weights in one process; each half of the batch goes through the
    # network on its own, as in DDP (BatchNorm statistics per process).
    cfg = config.compose("smoke", argv[:-4])
    module = build_module(cfg, build_backbone(cfg), {})
    module.load_state_dict(ranks[0]["state"])
    module.train()
    with torch.no_grad():
        emb = torch.cat([module(r["images"])[keys.EMBEDDING] for r in ranks])
    items = torch.cat([r["items"] for r in ranks])
    margin = float(cfg.loss.margin)
    everyone = range(len(emb))
    sizes = [len(r["items"]) for r in ranks]
    slices = [range(0, sizes[0]), range(sizes[0], sum(sizes))]
    local_only = 0.0
    for rank, rows in zip(ranks, slices, strict=True):
        want = _batch_hard(emb, items, rows, everyone, margin)
        assert rank["loss"].item() == pytest.approx(want, rel=1e-4)
        local_only += _batch_hard(emb, items, rows, rows, margin)
    mean = sum(r["loss"].item() for r in ranks) / 2
    assert mean > local_only / 2 + 1e-3  # the other process's embeddings changed the loss
    single = TripletLoss(margin=margin)({keys.EMBEDDING: emb}, {keys.ITEM_ID: items})
    assert mean == pytest.approx(single.item(), rel=1e-4)
