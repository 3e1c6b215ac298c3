"""``checkpoint`` callback: last.ckpt holds the latest epoch even when the metric got worse."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.demos.boring_classes import BoringModel

from clothret import registry
from clothret.callbacks.checkpoint_io import AtomicCheckpointIO


class WorseningModel(BoringModel):
    """Logs a monitored metric that is best in epoch 0 and falls afterwards."""

    def on_validation_epoch_end(self) -> None:
        self.log("val/hit@1", 1.0 / (self.current_epoch + 1))


def test_last_checkpoint_is_the_final_epoch_and_best_is_kept(tmp_path: Path) -> None:
    callback = registry.build("callback", {"name": "checkpoint"}, run_dir=str(tmp_path))
    trainer = pl.Trainer(
        max_epochs=3, limit_train_batches=2, limit_val_batches=1, callbacks=[callback],
        logger=False, enable_progress_bar=False, enable_model_summary=False,
        plugins=[AtomicCheckpointIO()],
    )  # fmt: skip
    trainer.fit(WorseningModel())
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["epoch"] == 2
    best = torch.load(callback.best_model_path, weights_only=True)
    assert best["epoch"] == 0 and callback.best_model_score == 1.0
    assert not list((tmp_path / "checkpoints").glob(".*.tmp"))  # atomic writes leave no temp files
