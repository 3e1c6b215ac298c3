"""Config → objects: the one place where components are built and runtime values injected.

Order matters: the backbone is built first (its timm data config sets the transforms), then the
datamodule is set up (its training split gives vocabulary sizes and label counts), then the
module, callbacks, loggers and Trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from clothret import registry
from clothret.callbacks.checkpoint_io import AtomicCheckpointIO
from clothret.config import TRAINER_EXTRAS
from clothret.errors import ConfigError
from clothret.runs import config_hash
from clothret.utils.io import atomic_write_json


@dataclass
class Experiment:
    """Everything a command needs, built from one resolved config."""

    cfg: DictConfig
    run_dir: Path
    datamodule: pl.LightningDataModule
    module: pl.LightningModule
    trainer: pl.Trainer


def node(cfg: DictConfig, key: str) -> dict[str, Any]:
    """A config section as a plain dict (empty if absent)."""
    value = cfg.get(key)
    if value is None:
        return {}
    return dict(OmegaConf.to_container(value, resolve=True))  # type: ignore[arg-type]


def build_backbone(cfg: DictConfig) -> Any:
    """The backbone of ``cfg.backbone``."""
    if cfg.get("backbone") is None:
        raise ConfigError("The config has no `backbone`; set backbone=<timm model name>.")
    return registry.build("backbone", node(cfg, "backbone"), at="backbone")


def checkpoint_vocab(ckpt_path: str | Path, run_dir: Path) -> str | None:
    """Write the training vocabulary stored in a checkpoint to ``run_dir`` and return its path.

    Evaluating a checkpoint must use the label ids it was trained with, not ids rebuilt from
    the data (which may have changed).
    """
    import torch

    from clothret.datamodules.vocab import Vocab

    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    for value in checkpoint.values():
        if isinstance(value, dict) and isinstance(value.get("vocab"), dict):
            return str(Vocab.from_dict(value["vocab"]).save(run_dir / "checkpoint_vocab.json"))
    return None


def build_datamodule(
    cfg: DictConfig, backbone: Any, run_dir: Path | None, stage: str, vocab: str | None = None
) -> Any:
    """Build and set up the datamodule of ``cfg.data`` with the backbone's data config."""
    if cfg.get("data") is None:
        raise ConfigError("The config has no `data`; set data=<datamodule name>.")
    datamodule = registry.build(
        "datamodule",
        node(cfg, "data"),
        at="data",
        data_config=dict(backbone.data_config),
        run_dir=str(run_dir) if run_dir else None,
        seed=int(cfg.get("seed", 0)),
        vocab=vocab,
    )
    datamodule.setup(stage)
    return datamodule


def build_module(cfg: DictConfig, backbone: Any, runtime: dict[str, Any]) -> pl.LightningModule:
    """The LightningModule of ``cfg.module`` with the backbone, main loss and runtime values."""
    module_node = node(cfg, "module") or {"name": "retrieval"}
    return registry.build(
        "module",
        module_node,
        at="module",
        backbone=backbone,
        loss=node(cfg, "loss") or None,
        **runtime,
    )


def build_callbacks(cfg: DictConfig, run_dir: Path) -> list[pl.Callback]:
    """Every callback of the ``callbacks`` section, keyed by label."""
    return [
        registry.build("callback", value, at=f"callbacks.{label}", run_dir=str(run_dir))
        for label, value in node(cfg, "callbacks").items()
        if value is not None
    ]


def build_loggers(cfg: DictConfig, run_dir: Path, job_type: str) -> list[Any]:
    """Every logger of the ``logger`` section; the config is logged as hyperparameters."""
    loggers = []
    for label, value in node(cfg, "logger").items():
        if value is None:
            continue
        logger = registry.build(
            "logger",
            value,
            at=f"logger.{label}",
            run_dir=str(run_dir),
            experiment=str(cfg.get("experiment")),
            job_type=job_type,
            config_hash=config_hash(cfg),
        )
        loggers.append(logger)
    return loggers


def build_trainer(
    cfg: DictConfig, run_dir: Path, callbacks: list[pl.Callback], loggers: list[Any]
) -> pl.Trainer:
    """A Trainer from ``cfg.trainer`` with atomic checkpoint writes."""
    kwargs = node(cfg, "trainer")
    extras = {k: kwargs.pop(k) for k in list(kwargs) if k in TRAINER_EXTRAS}
    if extras.get("strategy_options"):
        kwargs["strategy"] = _strategy(
            str(kwargs.get("strategy", "ddp")), extras["strategy_options"]
        )
    return pl.Trainer(
        default_root_dir=str(run_dir),
        callbacks=callbacks,
        logger=loggers or False,
        plugins=[AtomicCheckpointIO()],
        **kwargs,
    )


def _strategy(name: str, options: dict[str, Any]) -> Any:
    from pytorch_lightning.strategies import StrategyRegistry

    if name not in StrategyRegistry:
        raise ConfigError(
            f"trainer.strategy_options needs a named strategy; {name!r} is not one of "
            f"{', '.join(StrategyRegistry.available_strategies())}."
        )
    entry = StrategyRegistry[name]
    return entry["strategy"](**{**entry["init_params"], **options})


def build_experiment(cfg: DictConfig, run_dir: Path, stage: str, job_type: str) -> Experiment:
    """Build backbone, datamodule (set up for ``stage``), module, callbacks, loggers, Trainer."""
    backbone = build_backbone(cfg)
    vocab = None
    if stage != "fit" and cfg.get("ckpt_path"):
        vocab = checkpoint_vocab(str(cfg.ckpt_path), run_dir)
    datamodule = build_datamodule(cfg, backbone, run_dir, stage, vocab=vocab)
    runtime = dict(datamodule.runtime_info())
    atomic_write_json(run_dir / "runtime.json", runtime)
    module = build_module(cfg, backbone, runtime)
    # Prediction (embed, index) needs none of the training/evaluation callbacks.
    callbacks = build_callbacks(cfg, run_dir) if stage != "predict" else []
    trainer = build_trainer(cfg, run_dir, callbacks, build_loggers(cfg, run_dir, job_type))
    for logger in trainer.loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))  # type: ignore[arg-type]
    return Experiment(
        cfg=cfg, run_dir=run_dir, datamodule=datamodule, module=module, trainer=trainer
    )
