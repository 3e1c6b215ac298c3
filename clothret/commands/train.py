"""``clothret fit|validate|test``: train or evaluate an experiment in its own run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig

from clothret.errors import ConfigError
from clothret.experiment import Experiment, build_experiment
from clothret.runs import prepare_run_dir, resolve_checkpoint, write_metrics

STAGES = {"fit": "fit", "validate": "validate", "test": "test"}


def run(command: str, cfg: DictConfig) -> Path:
    """Run ``command`` for ``cfg``; returns the path of the run's ``metrics.json``."""
    cfg = resolve_checkpoint(cfg)
    if command in ("validate", "test") and not cfg.get("ckpt_path"):
        raise ConfigError(
            f"clothret {command} needs a checkpoint: add ckpt_path=PATH (or ckpt_path=last)."
        )
    pl.seed_everything(int(cfg.get("seed", 0)), workers=True, verbose=False)
    run_dir = prepare_run_dir(cfg, resume=command == "fit")
    experiment = build_experiment(cfg, run_dir, STAGES[command], job_type=command)
    ckpt = str(cfg.ckpt_path) if cfg.get("ckpt_path") else None
    extra: dict[str, Any] = {"run_dir": str(run_dir), "experiment": cfg.get("experiment")}
    if command == "fit":
        experiment.trainer.fit(experiment.module, datamodule=experiment.datamodule, ckpt_path=ckpt)
        extra.update(_checkpoint_info(experiment))
        metrics = dict(experiment.trainer.callback_metrics)
    else:
        evaluate = experiment.trainer.validate if command == "validate" else experiment.trainer.test
        results = evaluate(experiment.module, datamodule=experiment.datamodule, ckpt_path=ckpt)
        metrics = {k: v for result in results for k, v in result.items()}
        extra["checkpoint"] = ckpt
    return write_metrics(run_dir, command, metrics, extra)


def _checkpoint_info(experiment: Experiment) -> dict[str, Any]:
    callback = experiment.trainer.checkpoint_callback
    if callback is None:
        return {}
    best = getattr(callback, "best_model_score", None)
    return {
        "best_checkpoint": getattr(callback, "best_model_path", None) or None,
        "last_checkpoint": getattr(callback, "last_model_path", None) or None,
        "monitor": getattr(callback, "monitor", None),
        "best_score": float(best) if best is not None else None,
    }
