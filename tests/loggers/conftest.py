"""Offline W&B isolation and a small generated dataset for the logger tests."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clothret.datamodules.synthetic import SyntheticDataModule
from clothret.loggers.wandb_offline import OfflineRun, offline_runs, read_offline_run


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No WANDB_* variables, credentials or user settings of the machine running the tests:
    HOME, NETRC and wandb's directories point into ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    for name in list(os.environ):
        if name.startswith("WANDB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(home / ".netrc"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(home / "wandb-config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(home / "wandb-cache"))
    monkeypatch.setenv("WANDB_DATA_DIR", str(home / "wandb-data"))


@contextlib.contextmanager
def wandb_session() -> Iterator[None]:
    """A fresh wandb session: wandb reads its environment once per session, so one is started
    for the test's variables and ended (with any run a failing test left open) afterwards."""
    import wandb

    wandb.teardown()
    try:
        yield
    finally:
        wandb.finish()
        wandb.teardown()


@pytest.fixture
def wandb_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated environment (see :func:`isolate`) and wandb session; yields the home."""
    isolate(monkeypatch, tmp_path / "home")
    with wandb_session():
        yield tmp_path / "home"


@pytest.fixture
def wandb_offline(wandb_isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``wandb_isolated`` plus WANDB_MODE=offline and a temp WANDB_DIR, which it returns."""
    wandb_dir = wandb_isolated.parent / "wandb_dir"
    wandb_dir.mkdir()
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(wandb_dir))
    return wandb_dir


@pytest.fixture(scope="module")
def module_wandb_offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``wandb_offline`` for a whole test module (tests sharing one run); yields WANDB_DIR."""
    base = tmp_path_factory.mktemp("wandb_module")
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate(monkeypatch, base / "home")
        monkeypatch.setenv("WANDB_MODE", "offline")
        monkeypatch.setenv("WANDB_DIR", str(base / "wandb_dir"))
        (base / "wandb_dir").mkdir()
        with wandb_session():
            yield base / "wandb_dir"


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Root of a 16-item generated dataset (64 px), generated once per session."""
    root = tmp_path_factory.mktemp("sample16")
    SyntheticDataModule(root=str(root), num_items=16, image_size=64).ensure_data()
    return root


@pytest.fixture
def fast_run(sample_root: Path, tmp_path: Path) -> list[str]:
    """Overrides for a short smoke run in ``tmp_path/run``: tiny CNN, 16 generated items at
    64 px, two training batches per epoch, metrics logged every step."""
    return [
        "experiment=smoke",
        "backbone=tiny_convnet",
        f"data.root={sample_root}",
        "data.num_items=16",
        "data.image_size=64",
        "data.batch_size=16",
        "data.num_workers=0",
        "trainer.limit_train_batches=2",
        "trainer.log_every_n_steps=1",
        f"run_dir={tmp_path / 'run'}",
    ]


@pytest.fixture
def finished_runs() -> Callable[[Path], list[OfflineRun]]:
    """Reads the offline runs under a directory, oldest first, once wandb has flushed them."""

    def read(directory: Path) -> list[OfflineRun]:
        import wandb

        wandb.teardown()  # run.finish() may return before the run's file is fully written
        return [read_offline_run(path) for path in offline_runs(directory)]

    return read
