"""Show what the model retrieves: top-k gallery images of a fixed set of evaluation queries.

Every ``every_n_epochs`` validation epochs (and at test), the evaluation outputs are gathered from
every process like the metric callback does; process 0 ranks the gallery for the chosen queries
and writes ``<run_dir>/examples/epoch{E:03d}.png`` (``test_epoch{E:03d}.png`` at test), logs a
table to each W&B logger (query image, top-k images, per-rank correct flags and distances) and
the grid image to each TensorBoard logger. Images are the raw files (not the normalised model
input), read through the evaluation dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
from PIL import Image
from pytorch_lightning.loggers import TensorBoardLogger, WandbLogger

from clothret import keys
from clothret.callbacks.example_grid import Example, example_grid, rank_examples, tile
from clothret.callbacks.gather import EvalOutputCallback, gather_to_all, merge_unique
from clothret.errors import ConfigError
from clothret.registry import register
from clothret.utils.io import atomic_write


@register("callback", "retrieval_examples")
class RetrievalExamples(EvalOutputCallback):
    """Logs the top-``k`` gallery images of ``n_queries`` queries, marked correct/incorrect.

    Args:
        every_n_epochs: draw after every n-th validation epoch of training (validate and test
            runs always draw).
        n_queries: queries shown (rows of the grid).
        k: gallery images shown per query.
        seed: queries are a sample of the evaluated queries drawn with this seed (null: the
            first ``n_queries``); the same seed shows the same queries every epoch.
        metric: ``cosine`` or ``euclidean`` on the module's retrieval feature.
        relevance: ``item``, ``category`` or ``auto`` (what the datamodule declares).
        thumbnail_size: side of each image tile in pixels.
        on_test: also draw at the end of a test run.
        run_dir: where ``examples/`` is written (runtime; default: the Trainer's root dir).
    """

    kept = (keys.EMBEDDING, keys.INDEX, keys.IS_QUERY, keys.ITEM_ID, keys.CATEGORY)

    def __init__(
        self,
        every_n_epochs: int = 1,
        n_queries: int = 8,
        k: int = 5,
        seed: int | None = 0,
        metric: str = "cosine",
        relevance: str = "auto",
        thumbnail_size: int = 96,
        on_test: bool = True,
        run_dir: str | None = None,
    ) -> None:
        super().__init__()
        if metric not in ("cosine", "euclidean"):
            raise ConfigError(f"retrieval_examples.metric={metric!r}; use cosine or euclidean.")
        if relevance not in ("auto", "item", "category"):
            raise ConfigError(
                f"retrieval_examples.relevance={relevance!r}; use auto, item or category."
            )
        if min(every_n_epochs, n_queries, k, thumbnail_size) < 1:
            raise ConfigError(
                "retrieval_examples: every_n_epochs, n_queries, k and thumbnail_size must be "
                "positive."
            )
        self.every_n_epochs, self.n_queries, self.k = int(every_n_epochs), int(n_queries), int(k)
        self.seed, self.metric, self.relevance = seed, metric, relevance
        self.thumbnail_size, self.on_test = int(thumbnail_size), on_test
        self.run_dir = run_dir
        self.last_path: Path | None = None
        self.last_examples: list[Example] = []

    # Lightning hooks ---------------------------------------------------------------------------
    def collecting(self, trainer: pl.Trainer, stage: str) -> bool:
        return self._due(trainer) if stage == "val" else self.on_test

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._due(trainer):
            self._draw(trainer, "val")
        self.collector.reset()

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.on_test:
            self._draw(trainer, "test")
        self.collector.reset()

    def _due(self, trainer: pl.Trainer) -> bool:
        if trainer.sanity_checking:
            return False
        if trainer.state.fn != "fit":
            return True
        return (trainer.current_epoch + 1) % self.every_n_epochs == 0

    # drawing -----------------------------------------------------------------------------------
    def _draw(self, trainer: pl.Trainer, stage: str) -> None:
        local = self.collector.local()
        if keys.INDEX not in local or keys.EMBEDDING not in local:
            return
        parts = gather_to_all(local)  # every process takes part; only process 0 draws
        if not trainer.is_global_zero:
            return
        data = merge_unique(parts, expected=None)
        label_key = keys.ITEM_ID if self._relevance(trainer) == "item" else keys.CATEGORY
        examples = rank_examples(data, self.n_queries, self.k, self.metric, label_key, self.seed)
        if not examples:
            return
        dataset = _eval_dataset(trainer, stage)
        needed = {i for e in examples for i in (e.query, *e.gallery)}
        images = {i: _load(dataset, i) for i in needed}
        grid = example_grid(examples, images, self.thumbnail_size)
        epoch = trainer.current_epoch
        name = f"epoch{epoch:03d}.png" if stage == "val" else f"test_epoch{epoch:03d}.png"
        root = Path(self.run_dir or trainer.default_root_dir)
        self.last_path = atomic_write(
            root / "examples" / name, lambda handle: grid.save(handle, format="PNG")
        )
        self.last_examples = examples
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                columns, rows = self._table(examples, images, dataset, epoch)
                logger.log_table(f"{stage}/examples", columns, rows, step=trainer.global_step)
            elif isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image(
                    f"{stage}/examples", np.asarray(grid), trainer.global_step, dataformats="HWC"
                )

    def _relevance(self, trainer: pl.Trainer) -> str:
        if self.relevance != "auto":
            return self.relevance
        return getattr(getattr(trainer, "datamodule", None), "relevance", "item") or "item"

    def _table(
        self, examples: list[Example], images: dict[int, Any], dataset: Any, epoch: int
    ) -> tuple[list[str], list[list[Any]]]:
        import wandb

        k = max(len(e.gallery) for e in examples)
        columns = ["epoch", "query", "query_index", "query_label", "query_file", "hits"]
        for rank in range(1, k + 1):
            columns += [f"top{rank}", f"correct{rank}", f"distance{rank}"]
        rows = []
        size = self.thumbnail_size
        for e in examples:
            row = [epoch, wandb.Image(tile(images[e.query], size, None)), e.query, e.label]
            row += [_file_name(dataset, e.query), sum(e.correct)]
            for g, ok, d in zip(e.gallery, e.correct, e.distances, strict=True):
                caption = f"{'correct' if ok else 'wrong'} d={d:.3g}"
                row += [wandb.Image(tile(images[g], size, ok), caption=caption), ok, d]
            row += [None] * (len(columns) - len(row))
            rows.append(row)
        return columns, rows


def _eval_dataset(trainer: pl.Trainer, stage: str) -> Any:
    loaders = trainer.val_dataloaders if stage == "val" else trainer.test_dataloaders
    loader = loaders[0] if isinstance(loaders, list | tuple) else loaders
    return getattr(loader, "dataset", None)


def _load(dataset: Any, index: int) -> Image.Image | None:
    """The raw image of sample ``index`` (a grey tile when the dataset cannot give one)."""
    if hasattr(dataset, "load"):
        return dataset.load(index)
    files = getattr(dataset, "files", None)
    if files is not None:
        with Image.open(files[index]) as image:
            return image.convert("RGB")
    return None


def _file_name(dataset: Any, index: int) -> str:
    files = getattr(dataset, "files", None)
    return Path(str(files[index])).name if files is not None else ""
