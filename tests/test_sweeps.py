"""W&B sweep files in configs/sweeps: valid sweeps whose parameters are clothret overrides, and
one run of a sweep's command built the way ``wandb agent`` builds it, executed locally."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from clothret import config as config_lib
from clothret.loggers.wandb_offline import offline_runs, read_offline_run

SWEEPS = sorted((config_lib.config_root() / "sweeps").glob("*.yaml"))
METHODS = ("grid", "random", "bayes")
DISTRIBUTIONS = ("uniform", "log_uniform_values", "int_uniform", "categorical")
# Tiny limits appended to the sweep's command for the local run.
TINY = [
    "backbone=tiny_convnet",
    "data.num_items=16",
    "data.image_size=64",
    "data.batch_size=16",
    "data.num_workers=0",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=2",
]


def sample(spec: dict[str, Any], rng: np.random.Generator) -> Any:
    """One value of a sweep parameter, as the sweep controller would draw it."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return spec["values"][int(rng.integers(len(spec["values"])))]
    low, high = spec["min"], spec["max"]
    kind = spec.get("distribution", "int_uniform" if isinstance(low, int) else "uniform")
    if kind == "uniform":
        return float(rng.uniform(low, high))
    if kind == "log_uniform_values":
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    if kind == "int_uniform":
        return int(rng.integers(low, high + 1))
    raise AssertionError(f"distribution {kind!r} is not sampled by this test")


def experiment_of(sweep: dict[str, Any]) -> str:
    (item,) = [c for c in sweep["command"] if str(c).startswith("experiment=")]
    return item.split("=", 1)[1]


def agent_argv(sweep: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """The argv ``wandb agent`` runs for one parameter set (wandb_agent.Agent._command_run)."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    command = create_sweep_command(list(sweep["command"]))
    sweep_vars = create_sweep_command_args({"args": {k: {"value": v} for k, v in params.items()}})
    sweep_vars["interpreter"] = ["python"]
    sweep_vars["program"] = [sweep.get("program", "")]
    sweep_vars["env"] = ["/usr/bin/env"]
    argv: list[str] = []
    for chunk in map(str, command):
        if chunk.startswith("${") and chunk.endswith("}"):
            argv += sweep_vars.get(chunk[2:-1]) or []
        else:
            argv.append(chunk)
    return argv


def test_sweep_files_exist() -> None:
    assert [p.name for p in SWEEPS] == ["smoke_margin.yaml"]


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_is_valid_and_parameters_are_overrides(path: Path) -> None:
    sweep = yaml.safe_load(path.read_text())
    assert sweep["method"] in METHODS
    assert sweep["metric"]["goal"] in ("maximize", "minimize")
    assert "${args_no_hyphens}" in sweep["command"]
    assert sweep["command"][sweep["command"].index("clothret.cli") + 1] == "fit"
    cfg = config_lib.compose(experiment_of(sweep), [])
    metric = sweep["metric"]["name"]
    assert metric.startswith("val/hit@") and cfg.callbacks.retrieval_metrics is not None
    assert int(metric.rsplit("@", 1)[1]) in cfg.callbacks.retrieval_metrics.ks
    rng = np.random.default_rng(0)
    for name, spec in sweep["parameters"].items():
        assert set(spec) & {"value", "values", "min"}, name
        assert spec.get("distribution", "uniform") in DISTRIBUTIONS, name
        assert OmegaConf.select(cfg, name) is not None, f"{name} is not a key of the experiment"
        for _ in range(5):
            value = sample(spec, rng)
            if "min" in spec:
                assert spec["min"] <= value <= spec["max"]
            changed = config_lib.compose(experiment_of(sweep), [f"{name}={value}"])
            assert OmegaConf.select(changed, name) == value


@pytest.mark.skipif(not Path("/usr/bin/env").exists(), reason="the agent's ${env} is /usr/bin/env")
@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_one_agent_style_run(path: Path, tmp_path: Path) -> None:
    sweep = yaml.safe_load(path.read_text())
    rng = np.random.default_rng(1)
    params = {name: sample(spec, rng) for name, spec in sweep["parameters"].items()}
    argv = agent_argv(sweep, params)
    assert argv[:2] == ["/usr/bin/env", "python"]
    assert argv[-len(params) :] == [f"{k}={v}" for k, v in params.items()]
    argv[1] = sys.executable  # the agent relies on PATH; use this interpreter
    run_dir, wandb_dir = tmp_path / "run", tmp_path / "wandb_dir"
    wandb_dir.mkdir()
    argv += [*TINY, f"data.root={tmp_path / 'data'}", f"run_dir={run_dir}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(
        WANDB_MODE="offline",
        WANDB_DIR=str(wandb_dir),
        WANDB_RUN_ID="sweeprun1",  # the agent sets the id the sweep controller chose
        WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"),
        WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"),
        WANDB_DATA_DIR=str(tmp_path / "wandb-data"),
        NETRC=str(tmp_path / "no-netrc"),
        HOME=str(tmp_path),
    )
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run_dir / "metrics.json").is_file()
    saved = OmegaConf.load(run_dir / "config.yaml")
    for name, value in params.items():
        assert OmegaConf.select(saved, name) == value
    (offline,) = offline_runs(wandb_dir)
    run = read_offline_run(offline)
    assert run.run["id"] == "sweeprun1"
    assert {name: run.config[name] for name in params} == params
    assert sweep["metric"]["name"] in run.metric_names()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)
