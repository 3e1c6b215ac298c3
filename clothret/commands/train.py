"""``clothret fit|validate|test``: train or evaluate an experiment in its own run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig
from pytorch_lightning.utilities.exceptions import SIGTERMException

from clothret.errors import ConfigError
from clothret.experiment import Experiment, build_experiment
from clothret.runs import prepare_run_dir, resolve_checkpoint, write_metrics

STAGES = {"fit": "fit", "validate": "validate", "test": "test"}
# Exit status of a command stopped by SIGTERM (fit: after its final checkpoint): 128 + SIGTERM, what
# a shell reports for a process ended by SIGTERM, so job scripts can tell "resume me" from "done".
PREEMPTED_EXIT_CODE = 143


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
    try:
        if command == "fit":
            experiment.trainer.fit(
                experiment.module, datamodule=experiment.datamodule, ckpt_path=ckpt
            )
            extra.update(_checkpoint_info(experiment))
            metrics = dict(experiment.trainer.callback_metrics)
        else:
            trainer = experiment.trainer
            evaluate = trainer.validate if command == "validate" else trainer.test
            results = evaluate(experiment.module, datamodule=experiment.datamodule, ckpt_path=ckpt)
            metrics = {k: v for result in results for k, v in result.items()}
            extra["checkpoint"] = ckpt
    except SIGTERMException:  # Lightning stopped at a batch boundary; see callbacks/preemption.py
        resume = " Resume with `clothret fit ... ckpt_path=last`." if command == "fit" else ""
        print(f"clothret {command}: stopped by SIGTERM (run {run_dir}).{resume}", file=sys.stderr)
        raise SystemExit(PREEMPTED_EXIT_CODE) from None
    if not experiment.trainer.is_global_zero:  # DDP processes share the run directory
        return run_dir / "metrics.json"
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
