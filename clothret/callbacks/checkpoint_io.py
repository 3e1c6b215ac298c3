"""Checkpoint writes that cannot leave a truncated file behind.

Lightning's ``TorchCheckpointIO`` writes the serialized bytes straight into the target path, so a
crash or preemption mid-write corrupts ``last.ckpt``; this plugin writes a temp file beside it
and renames it over the target.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from pytorch_lightning.plugins.io import TorchCheckpointIO

from clothret.utils.io import atomic_write


class AtomicCheckpointIO(TorchCheckpointIO):
    """TorchCheckpointIO with temp-file-and-rename saves for local paths."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if "://" in str(path):  # remote filesystems keep Lightning's behaviour
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write(Path(path), lambda handle: handle.write(buffer.getbuffer()))
