"""Run directories: where a command's resolved config, checkpoints and metrics go.

Layout of a run directory (default ``runs/<experiment>/<timestamp>/``)::

    config.yaml        resolved config; `clothret fit --config config.yaml` re-runs it
    runtime.json       values taken from the data (vocabulary sizes, label counts)
    checkpoints/       last.ckpt and the best checkpoints
    metrics.json       final metrics of the command
    csv/, wandb/, ...  logger output
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from clothret import config as config_lib
from clothret.errors import ConfigError
from clothret.utils.io import atomic_write_json

CHECKPOINT_DIR = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
# The run directory, exported for the DDP processes Lightning starts (`trainer.strategy=ddp`):
# they re-run the same command with LOCAL_RANK >= 1 and must not make a directory of their own.
RUN_DIR_ENV = "CLOTHRET_RUN_DIR"


def config_hash(cfg: DictConfig) -> str:
    """Short stable hash of the resolved config minus run-location keys (for run names)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    for key in ("run_dir", "ckpt_path", "runs_root"):
        data.pop(key, None)
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:8]


def resolve_run_dir(cfg: DictConfig, resume: bool = False) -> Path:
    """``cfg.run_dir``, else the resumed checkpoint's run, else a new timestamped directory."""
    if cfg.get("run_dir"):
        return Path(str(cfg.run_dir))
    if os.environ.get(RUN_DIR_ENV) and int(os.environ.get("LOCAL_RANK") or 0) > 0:
        return Path(os.environ[RUN_DIR_ENV])
    ckpt = cfg.get("ckpt_path")
    if resume and ckpt:
        ckpt_path = Path(str(ckpt))
        if (
            ckpt_path.parent.name == CHECKPOINT_DIR
            and (ckpt_path.parent.parent / "config.yaml").is_file()
        ):
            return ckpt_path.parent.parent
    root = Path(str(cfg.get("runs_root") or "runs")) / str(cfg.get("experiment") or "default")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = root / stamp, 1
    while candidate.exists():
        suffix += 1
        candidate = root / f"{stamp}-{suffix}"
    return candidate


def resolve_checkpoint(cfg: DictConfig) -> DictConfig:
    """Turn ``ckpt_path=last`` into the newest ``last.ckpt`` of this experiment's runs."""
    if str(cfg.get("ckpt_path")) != "last":
        if cfg.get("ckpt_path") and not Path(str(cfg.ckpt_path)).is_file():
            raise ConfigError(
                f"ckpt_path={cfg.ckpt_path} does not exist; give a checkpoint file or "
                "ckpt_path=last."
            )
        return cfg
    root = Path(str(cfg.get("runs_root") or "runs")) / str(cfg.get("experiment") or "default")
    if cfg.get("run_dir"):
        candidates = [Path(str(cfg.run_dir)) / CHECKPOINT_DIR / LAST_CHECKPOINT]
    else:
        candidates = list(root.glob(f"*/{CHECKPOINT_DIR}/{LAST_CHECKPOINT}"))
    candidates = [c for c in candidates if c.is_file()]
    if not candidates:
        raise ConfigError(
            f"ckpt_path=last: no {CHECKPOINT_DIR}/{LAST_CHECKPOINT} under {root} to resume from; "
            "start without ckpt_path or give a checkpoint path."
        )
    cfg = cfg.copy()
    cfg.ckpt_path = str(max(candidates, key=lambda p: p.stat().st_mtime))
    return cfg


def prepare_run_dir(cfg: DictConfig, resume: bool = False) -> Path:
    """Create the run directory and save the resolved config in it.

    ``resume`` (``fit`` with a checkpoint) continues in the checkpoint's run directory; other
    commands evaluating a checkpoint get their own. The config is saved as composed: with
    ``run_dir: null`` a re-run (``--config``) gets a new directory instead of overwriting this one.
    """
    run_dir = resolve_run_dir(cfg, resume)
    run_dir.mkdir(parents=True, exist_ok=True)
    os.environ[RUN_DIR_ENV] = str(run_dir)
    config_lib.save(cfg, run_dir / "config.yaml")
    return run_dir


def to_float_dict(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """Metric values as plain floats (tensors converted; non-finite values become None)."""
    out: dict[str, float | None] = {}
    for key, value in metrics.items():
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            continue
        out[str(key)] = number if math.isfinite(number) else None
    return dict(sorted(out.items()))


def write_metrics(
    run_dir: Path, command: str, metrics: Mapping[str, Any], info: Mapping[str, Any]
) -> Path:
    """Write ``metrics.json`` (command, final metrics, run info) and return its path."""
    data = {"command": command, "metrics": to_float_dict(metrics), **info}
    return atomic_write_json(run_dir / "metrics.json", data)
