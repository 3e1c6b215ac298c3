"""``clothret embed`` and ``clothret index``: features of a split, and a search index over them.

An embedding directory holds ``embeddings.npy`` (float32 ``[N, D]``), ``codes.npy`` (uint8
``{0,1}`` ``[N, bits]``, for hash models), ``items.csv`` (path, item_id, category, domain, split
per row, same order) and ``meta.json``. An index directory adds ``index/`` (see
``clothret.retrieval.index``), and ``model/`` (config and checkpoint reference) so that
``clothret search`` can embed new query images the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from clothret import keys, registry
from clothret.callbacks.embedding_writer import EmbeddingWriter, merge_shards
from clothret.errors import ConfigError
from clothret.experiment import build_experiment, node
from clothret.loggers.wandb_artifacts import log_index_artifact
from clothret.runs import prepare_run_dir, resolve_checkpoint
from clothret.utils.io import atomic_write_json, atomic_write_text

SPLITS = ("train", "query", "gallery", "validate", "test")
ITEM_COLUMNS = ("path", "item_id", "category", "domain", "split")


def _require_checkpoint(cfg: DictConfig, command: str) -> DictConfig:
    cfg = resolve_checkpoint(cfg)
    if not cfg.get("ckpt_path"):
        raise ConfigError(f"clothret {command} needs a trained model: add ckpt_path=PATH.")
    return cfg


def embed(
    cfg: DictConfig, split: str = "gallery", out: str | None = None, run_dir: Path | None = None
) -> Path:
    """Write the embeddings (and codes) of ``split``; returns the output directory."""
    if split not in SPLITS:
        raise ConfigError(f"Unknown split {split!r}; choose one of {', '.join(SPLITS)}.")
    cfg = _require_checkpoint(cfg, "embed")
    run_dir = run_dir or prepare_run_dir(cfg)
    out_dir = Path(out) if out else run_dir / "embeddings" / split
    out_dir.mkdir(parents=True, exist_ok=True)
    experiment = build_experiment(cfg, run_dir, "predict", job_type="embed")
    trainer, datamodule = experiment.trainer, experiment.datamodule
    trainer.callbacks.append(EmbeddingWriter(out_dir))
    loader = datamodule.eval_dataloader(split)
    trainer.predict(
        experiment.module,
        dataloaders=loader,
        ckpt_path=str(cfg.ckpt_path),
        return_predictions=False,
    )
    trainer.strategy.barrier()
    if trainer.is_global_zero:
        merged = merge_shards(out_dir, expected=len(loader.dataset))
        rows, _ = datamodule.split_frame(split)
        items = rows.reset_index(drop=True).assign(path=rows["file"].to_numpy())
        atomic_write_text(out_dir / "items.csv", items[list(ITEM_COLUMNS)].to_csv(index=False))
        atomic_write_json(
            out_dir / "meta.json",
            {
                "split": split,
                "count": len(merged[keys.EMBEDDING]),
                "dim": int(merged[keys.EMBEDDING].shape[1]),
                "bits": int(merged[keys.CODES].shape[1]) if keys.CODES in merged else None,
                "eval_feature": experiment.module.eval_feature,
                "checkpoint": str(Path(str(cfg.ckpt_path)).resolve()),
                "experiment": cfg.get("experiment"),
            },
        )
    trainer.strategy.barrier()
    return out_dir


def build_index(cfg: DictConfig, out: str | None = None) -> Path:
    """Embed the gallery, build ``cfg.index`` over it and save it with the gallery items."""
    import numpy as np

    cfg = _require_checkpoint(cfg, "index")
    index_node = node(cfg, "index")
    if not index_node:
        raise ConfigError(
            "The config has no `index`; set index=exact (or binary, hierarchical, ivf)."
        )
    run_dir = prepare_run_dir(cfg)
    out_dir = Path(out) if out else run_dir / "index"
    embeddings = embed(cfg, "gallery", out=str(out_dir / "gallery"), run_dir=run_dir)
    index = registry.build("index", index_node, at="index")
    features = np.load(embeddings / "embeddings.npy")
    codes_file = embeddings / "codes.npy"
    codes = np.load(codes_file) if codes_file.is_file() else None
    kwargs: dict[str, Any] = {"features": features}
    if codes is not None:
        kwargs["codes"] = codes
    index.add(**_inputs_for(index, kwargs))
    index.save(out_dir / "index")
    model_dir = out_dir / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "config.yaml", model_dir / "config.yaml")
    shutil.copyfile(run_dir / "runtime.json", model_dir / "runtime.json")
    atomic_write_json(
        model_dir / "model.json",
        {"checkpoint": str(Path(str(cfg.ckpt_path)).resolve()), "index": index_node},
    )
    log_index_artifact(out_dir, cfg, run_dir)  # only when a wandb logger is configured
    return out_dir


def _inputs_for(index: Any, available: dict[str, Any]) -> dict[str, Any]:
    """Only the inputs the index type uses (features, codes, or both)."""
    needs = [
        n for n, flag in (("features", index.needs_features), ("codes", index.needs_codes)) if flag
    ]
    missing = [n for n in needs if n not in available]
    if missing:
        raise ConfigError(
            f"index {index.type_name!r} needs {', '.join(missing)}, which this model does not "
            "produce (binary codes need a hash head, e.g. module=latent_hash)."
        )
    return {k: v for k, v in available.items() if k in needs}


def gallery_items(index_dir: Path) -> pd.DataFrame:
    """The gallery rows of an index directory, in index order."""
    return pd.read_csv(index_dir / "gallery" / "items.csv", keep_default_na=False, dtype=str)
