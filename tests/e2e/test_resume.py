"""Resuming `clothret fit`: after a crash, after SIGTERM at an epoch end and mid-epoch.

Every run trains the smoke experiment (tiny backbone, 4 batches per epoch) for 2 epochs in its
own process with the same seed; a resumed run must end with the same epoch-2 validation metrics,
weights, optimiser and scheduler state as the uninterrupted run. ``num_workers=0``: the random
draws of the main process are keyed to the training position by the ``preemption`` callback,
while DataLoader workers keep their own streams (see ``clothret/callbacks/preemption.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

BATCHES = 4
# Send SIGTERM to this process at the end of training batch (argv[1], argv[2]), then run the CLI.
SIGTERM_DRIVER = """
import os, signal, sys
import pytorch_lightning as pl
from clothret.cli import main
from clothret.commands import train

class SigtermAt(pl.Callback):
    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == self.at:
            os.kill(os.getpid(), signal.SIGTERM)

build = train.build_experiment

def build_with_sigterm(*args, **kwargs):
    experiment = build(*args, **kwargs)
    experiment.trainer.callbacks.append(SigtermAt(int(sys.argv[1]), int(sys.argv[2])))
    return experiment

train.build_experiment = build_with_sigterm
sys.exit(main(sys.argv[3:]))
"""


def _args(sample_data: Path, runs_root: Path) -> list[str]:
    return [
        "fit",
        "experiment=smoke",
        f"data.root={sample_data}",
        f"runs_root={runs_root}",
        "backbone=tiny_convnet",
        "data.limit_items=20",
        "data.batch_size=16",
        "data.eval_batch_size=128",  # one validation batch: SIGTERM is not acted on inside it
        "data.num_workers=0",
        "trainer.max_epochs=2",
        f"trainer.limit_train_batches={BATCHES}",
        "trainer.deterministic=true",
        "trainer.enable_progress_bar=false",
    ]


def _clothret(*argv: str, driver: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """``clothret ARGV`` in a fresh process (with SIGTERM_DRIVER when ``driver`` is given)."""
    command = [sys.executable, "-m", "clothret.cli"]
    if driver:
        command = [sys.executable, "-c", SIGTERM_DRIVER, *driver]
    return subprocess.run([*command, *argv], capture_output=True, text=True, timeout=300)


def _fit(*argv: str, driver: list[str] | None = None) -> dict:
    done = _clothret(*argv, driver=driver)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(Path(done.stdout.strip().splitlines()[-1]).read_text())


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _run_dir(runs_root: Path) -> Path:
    (run_dir,) = (runs_root / "smoke").iterdir()
    return run_dir


def _assert_same_training(resumed: dict, reference: dict) -> None:
    """Same epoch-2 metrics, and the same final weights, optimiser and scheduler state."""
    assert resumed["metrics"] == reference["metrics"]
    got, want = _load(Path(resumed["last_checkpoint"])), _load(Path(reference["last_checkpoint"]))
    assert got["epoch"] == want["epoch"] == 1 and got["global_step"] == want["global_step"]
    for name, tensor in want["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    assert got["lr_schedulers"] == want["lr_schedulers"]
    (got_opt,), (want_opt,) = got["optimizer_states"], want["optimizer_states"]
    assert got_opt["param_groups"] == want_opt["param_groups"]
    for param, state in want_opt["state"].items():
        for key, value in state.items():
            assert torch.equal(got_opt["state"][param][key], value), (param, key)


@pytest.fixture(scope="module")
def reference(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """metrics.json of the uninterrupted 2-epoch run."""
    return _fit(*_args(sample_data, tmp_path_factory.mktemp("reference")))


def test_resume_after_a_crash_in_epoch_2(sample_data: Path, tmp_path: Path, reference: dict):
    runs_root = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "clothret.cli", *_args(sample_data, runs_root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not list(runs_root.glob("smoke/*/checkpoints/last.ckpt")):  # written at epoch 1's end
        assert process.poll() is None and time.monotonic() < deadline, "no epoch-1 checkpoint"
        time.sleep(0.02)
    process.kill()  # SIGKILL: no handler runs, as in a crash or an out-of-memory kill
    process.wait()
    run_dir = _run_dir(runs_root)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    assert _load(checkpoint)["epoch"] == 0, "killed too late: epoch 2 had already finished"

    resumed = _fit(*_args(sample_data, runs_root), f"ckpt_path={checkpoint}")
    assert Path(resumed["run_dir"]) == run_dir  # the run directory is reused
    _assert_same_training(resumed, reference)


def test_sigterm_at_the_end_of_epoch_1_saves_and_resume_matches(
    sample_data: Path, tmp_path: Path, reference: dict
):
    runs_root = tmp_path / "runs"
    stopped = _clothret(*_args(sample_data, runs_root), driver=["0", str(BATCHES - 1)])
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    assert "stopped by SIGTERM" in stopped.stderr and "ckpt_path=last" in stopped.stderr
    final = _load(_run_dir(runs_root) / "checkpoints" / "last.ckpt")
    # Lightning finishes the epoch (its last batch, then validation) before stopping, and the
    # checkpoint counts it as completed.
    assert final["epoch"] == 1 and final["global_step"] == BATCHES
    progress = final["loops"]["fit_loop"]["epoch_progress"]["current"]
    assert progress["completed"] == progress["processed"] == 1

    resumed = _fit(*_args(sample_data, runs_root), "ckpt_path=last")
    assert Path(resumed["run_dir"]) == _run_dir(runs_root)
    _assert_same_training(resumed, reference)


@pytest.fixture(scope="module")
def stopped_mid_epoch(sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runs_root of a run sent SIGTERM after batch 2 of epoch 2."""
    runs_root = tmp_path_factory.mktemp("mid-epoch")
    stopped = _clothret(*_args(sample_data, runs_root), driver=["1", "1"])
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    return runs_root


def test_sigterm_mid_epoch_writes_the_final_checkpoint(stopped_mid_epoch: Path):
    run_dir = _run_dir(stopped_mid_epoch)
    final = _load(run_dir / "checkpoints" / "last.ckpt")
    assert final["epoch"] == 1 and final["global_step"] == BATCHES + 2
    batches = final["loops"]["fit_loop"]["epoch_loop.batch_progress"]["current"]
    assert batches["completed"] == 2
    assert not list((run_dir / "checkpoints").glob(".*tmp*"))  # atomic write left no temp file
    assert "metrics.json" not in os.listdir(run_dir)  # the stopped run reports no final metrics


def test_resume_mid_epoch_matches_the_uninterrupted_run(
    sample_data: Path, stopped_mid_epoch: Path, reference: dict
):
    resumed = _fit(*_args(sample_data, stopped_mid_epoch), "ckpt_path=last")
    _assert_same_training(resumed, reference)
