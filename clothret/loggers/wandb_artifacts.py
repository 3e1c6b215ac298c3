"""Log a directory (the search index that ``clothret index`` writes) as a W&B artifact.

Checkpoints need nothing from here: ``logger.wandb.log_model`` makes Lightning's WandbLogger log
them as ``model`` artifacts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from clothret import registry
from clothret.loggers.wandb_logger import ClothretWandbLogger
from clothret.runs import config_hash


def wandb_nodes(cfg: DictConfig) -> dict[str, dict[str, Any]]:
    """The ``logger`` section's W&B nodes, by label."""
    section = cfg.get("logger") or {}
    nodes = OmegaConf.to_container(section, resolve=True) if section else {}
    assert isinstance(nodes, dict)
    return {
        str(label): value
        for label, value in nodes.items()
        if isinstance(value, dict) and value.get("name") == "wandb"
    }


def log_index_artifact(
    index_dir: str | Path,
    cfg: DictConfig,
    run_dir: str | Path,
    loggers: Iterable[Any] = (),
    name: str | None = None,
    aliases: Sequence[str] = ("latest",),
) -> list[str]:
    """Log ``index_dir`` as an artifact of type ``index`` to every W&B logger of ``cfg``.

    Args:
        index_dir: the directory to upload (its ``meta.json``, or ``index/meta.json``, becomes
            the artifact's metadata).
        cfg: the resolved config; nothing is logged when its ``logger`` section has no W&B node.
        run_dir: the command's run directory.
        loggers: loggers to reuse (e.g. a Trainer's): their W&B runs get the artifact instead of
            a new ``index`` run.
        name: artifact name (default ``index-<experiment>-<config hash>``).
        aliases: artifact aliases.

    Returns:
        The names of the logged artifacts (empty without a W&B logger).
    """
    import wandb

    index_dir = Path(index_dir)
    reused = [lg for lg in loggers if isinstance(lg, ClothretWandbLogger)]
    built: list[ClothretWandbLogger] = []
    if not reused:
        built = [
            registry.build(
                "logger",
                node,
                at=f"logger.{label}",
                run_dir=str(run_dir),
                experiment=str(cfg.get("experiment")),
                job_type="index",
                config_hash=config_hash(cfg),
            )
            for label, node in wandb_nodes(cfg).items()
        ]
    artifact_name = _artifact_name(name or f"index-{cfg.get('experiment')}-{config_hash(cfg)}")
    # A reused logger whose Trainer call has ended reopens its run here, so it is closed again.
    closing = [*built, *(lg for lg in reused if lg.finished)]
    logged = []
    for logger in [*reused, *built]:
        if logger in built:
            logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type]
        artifact = wandb.Artifact(artifact_name, type="index", metadata=_metadata(index_dir))
        artifact.add_dir(str(index_dir))
        logger.experiment.log_artifact(artifact, aliases=list(aliases))
        logged.append(artifact_name)
    for logger in closing:
        logger.finalize("success")
    return logged


def _metadata(index_dir: Path) -> dict[str, Any]:
    for meta in (index_dir / "meta.json", index_dir / "index" / "meta.json"):
        if meta.is_file():
            data = json.loads(meta.read_text())
            return {k: v for k, v in data.items() if k != "files"} if isinstance(data, dict) else {}
    return {}


def _artifact_name(name: str) -> str:
    """W&B artifact names allow letters, digits, dashes, underscores and dots."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)
