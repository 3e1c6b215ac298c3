"""The ``wandb`` logger: a Weights & Biases run named and grouped for comparing experiments.

Every setting is taken from the config node when set there, else from the usual ``WANDB_*``
environment variable, else from clothret's default:

=========  ==================  ==============================================================
param      environment         default
=========  ==================  ==============================================================
project    WANDB_PROJECT       ``clothret``
entity     WANDB_ENTITY        your default entity
mode       WANDB_MODE          ``online`` (``offline`` with one warning when no API key exists)
run_name   WANDB_NAME          ``<experiment>-<config hash>``
group      WANDB_RUN_GROUP     the experiment name
job_type   WANDB_JOB_TYPE      the subcommand (``fit``, ``test``, ...)
tags       WANDB_TAGS          logger tags + ``WANDB_TAGS`` + the config's top-level ``tags``
id         WANDB_RUN_ID        the id stored in ``<run_dir>/wandb_run_id.txt`` by an earlier
                               fit in that run directory (resume), else a new one
dir        WANDB_DIR           the run directory (files go to ``<dir>/wandb/``)
=========  ==================  ==============================================================
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from clothret.errors import ConfigError
from clothret.loggers.wandb_logger import ClothretWandbLogger
from clothret.loggers.wandb_settings import resolve_mode, resolve_run_id
from clothret.registry import register


@register("logger", "wandb")
def wandb_logger(
    project: str | None = None,
    entity: str | None = None,
    run_name: str | None = None,
    group: str | None = None,
    tags: Sequence[str] = (),
    mode: str | None = None,
    id: str | None = None,
    dir: str | None = None,
    log_model: bool | str = False,
    summary_metric: str | None = None,
    summary_mode: str | None = None,
    init_timeout: float | None = None,
    run_dir: str = ".",
    experiment: str | None = None,
    job_type: str | None = None,
    config_hash: str | None = None,
) -> ClothretWandbLogger:
    """A W&B run grouped by experiment, typed by subcommand, named experiment + config hash.

    Args:
        project, entity, run_name, group, tags, mode, id, dir: see the table above.
        log_model: log checkpoints as ``model`` artifacts: True (the best and last at the end
            of training), ``all`` (every checkpoint when it is written), False.
        summary_metric: metric whose best value and epoch go to the run summary as
            ``best/<metric>`` and ``best/epoch`` (None: the checkpoint callback's monitor).
        summary_mode: ``max`` or ``min`` (None: the checkpoint callback's mode).
        init_timeout: seconds to wait for an online run to start before falling back to
            offline (None: wandb's default or ``WANDB_INIT_TIMEOUT``).
        run_dir, experiment, job_type, config_hash: runtime values from the command.
    """
    if log_model not in (True, False, "all"):
        raise ConfigError(f"logger.wandb.log_model={log_model!r}; use true, false or 'all'.")
    if summary_mode not in (None, "max", "min"):
        raise ConfigError(f"logger.wandb.summary_mode={summary_mode!r}; use 'max' or 'min'.")
    env = os.environ.get
    derived_name = f"{experiment}-{config_hash}" if experiment and config_hash else experiment
    env_tags = [t.strip() for t in env("WANDB_TAGS", "").split(",") if t.strip()]
    kwargs: dict[str, Any] = {
        "project": project or env("WANDB_PROJECT") or "clothret",
        "entity": entity or env("WANDB_ENTITY"),
        "name": run_name or env("WANDB_NAME") or derived_name,
        "group": group or env("WANDB_RUN_GROUP") or experiment,
        "job_type": env("WANDB_JOB_TYPE") or job_type,
        "tags": list(dict.fromkeys([*map(str, tags), *env_tags])),
        "mode": resolve_mode(mode),
        "id": resolve_run_id(id, run_dir, env("WANDB_JOB_TYPE") or job_type),
        "save_dir": dir or env("WANDB_DIR") or run_dir,
        "log_model": log_model,
    }
    if init_timeout is not None:
        import wandb

        kwargs["settings"] = wandb.Settings(init_timeout=float(init_timeout))
    return ClothretWandbLogger(
        run_dir=run_dir, summary_metric=summary_metric, summary_mode=summary_mode, **kwargs
    )
