"""Run directories, resume lookup and metrics files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from clothret import runs
from clothret.errors import ConfigError


def _cfg(tmp_path: Path, **extra: object) -> OmegaConf:
    return OmegaConf.create(
        {
            "experiment": "exp",
            "runs_root": str(tmp_path / "runs"),
            "run_dir": None,
            "ckpt_path": None,
            **extra,
        }
    )


def test_new_run_dirs_are_unique_and_hold_the_config(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    first, second = runs.prepare_run_dir(cfg), runs.prepare_run_dir(cfg)
    assert first != second and first.parent == second.parent == tmp_path / "runs" / "exp"
    assert OmegaConf.load(first / "config.yaml") == cfg


def test_ckpt_path_last_resumes_the_newest_run(tmp_path: Path) -> None:
    old = tmp_path / "runs" / "exp" / "a" / "checkpoints" / "last.ckpt"
    new = tmp_path / "runs" / "exp" / "b" / "checkpoints" / "last.ckpt"
    for i, path in enumerate((old, new)):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        (path.parent.parent / "config.yaml").write_text("experiment: exp\n")
        os.utime(path, (1000 + i, 1000 + i))
    cfg = runs.resolve_checkpoint(_cfg(tmp_path, ckpt_path="last"))
    assert cfg.ckpt_path == str(new)
    assert runs.resolve_run_dir(cfg, resume=True) == new.parent.parent  # fit resumes in place
    assert runs.resolve_run_dir(cfg).parent == tmp_path / "runs" / "exp"  # evaluation: a new dir
    assert runs.resolve_run_dir(cfg) != new.parent.parent


def test_ckpt_path_last_without_checkpoints_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no checkpoints/last\.ckpt"):
        runs.resolve_checkpoint(_cfg(tmp_path, ckpt_path="last"))


def test_missing_checkpoint_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        runs.resolve_checkpoint(_cfg(tmp_path, ckpt_path=str(tmp_path / "nope.ckpt")))


def test_metrics_file_has_plain_floats(tmp_path: Path) -> None:
    import torch

    path = runs.write_metrics(
        tmp_path, "fit", {"val/hit@1": torch.tensor(0.5), "bad": float("nan")}, {"run_dir": "x"}
    )
    data = json.loads(path.read_text())
    assert data == {"command": "fit", "metrics": {"bad": None, "val/hit@1": 0.5}, "run_dir": "x"}


def test_config_hash_ignores_where_the_run_goes(tmp_path: Path) -> None:
    a = _cfg(tmp_path, seed=1)
    b = _cfg(tmp_path / "elsewhere", seed=1)
    b.run_dir, b.ckpt_path = "somewhere", "x.ckpt"
    assert runs.config_hash(a) == runs.config_hash(b)
    assert runs.config_hash(a) != runs.config_hash(_cfg(tmp_path, seed=2))
