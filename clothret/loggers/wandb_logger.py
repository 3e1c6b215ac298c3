"""Lightning's WandbLogger made for comparing clothret runs.

Adds to :class:`pytorch_lightning.loggers.WandbLogger`:

* the config logged with flat dotted keys (``loss.name``, ``module.heads.embedding.dim``), so
  runs can be filtered and grouped by any value, and the same names as sweep parameters;
* the config's top-level ``tags`` added to the run's tags;
* ``best/<monitor>`` and ``best/epoch`` in the run summary: the best value of the monitored
  metric (the checkpoint callback's ``monitor``/``mode`` unless set, else ``val/hit@1``, max)
  and the epoch (0-based) it was reached;
* a fallback to offline mode when an online run cannot start, instead of failing the run;
* the run id written to ``<run_dir>/wandb_run_id.txt``, which a resumed fit reuses;
* the W&B run finished when the Trainer call ends (checkpoint artifacts logged first).
"""

from __future__ import annotations

import math
import numbers
from argparse import Namespace
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.loggers.logger import rank_zero_experiment
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from clothret.loggers.wandb_settings import RUN_ID_FILE, warn
from clothret.utils.io import atomic_write_text

DEFAULT_MONITOR = ("val/hit@1", "max")


def flatten_config(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level with dotted keys; lists and empty mappings stay values.

    Written out because Lightning's equivalent (``_flatten_dict``) is private API.
    """
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten_config(value, prefix=f"{name}."))
        else:
            flat[name] = value if _is_plain(value) else str(value)
    return flat


def _is_plain(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return all(_is_plain(v) for v in value)
    if isinstance(value, Mapping):
        return all(_is_plain(v) for v in value.values())
    return value is None or isinstance(value, str | int | float | bool)


class ClothretWandbLogger(WandbLogger):
    """A WandbLogger with flat config keys, a best-metric summary and a stored run id.

    Args:
        run_dir: the clothret run directory (where the run id is stored).
        summary_metric: metric whose best value goes to the summary (None: the checkpoint
            callback's monitor, else ``val/hit@1``).
        summary_mode: ``max`` or ``min`` (None: the checkpoint callback's mode, else max).
        **kwargs: :class:`~pytorch_lightning.loggers.WandbLogger` and ``wandb.init`` arguments.
    """

    def __init__(
        self,
        run_dir: str | Path | None = None,
        summary_metric: str | None = None,
        summary_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.summary_metric, self.summary_mode = summary_metric, summary_mode
        self._checkpoint_monitor: tuple[str, str] | None = None
        self._extremes: dict[str, dict[str, tuple[float, int]]] = {}  # key -> mode -> best
        self._summary_written: tuple[str, float, int] | None = None
        self._finished = False

    # ------------------------------------------------------------------ the run
    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._finished:  # a later Trainer call continues the same run
            self._wandb_init.update(id=self._experiment.id, resume="allow")
            self._experiment, self._finished = None, False
        starting = self._experiment is None
        try:
            run = WandbLogger.experiment.fget(self)  # type: ignore[attr-defined]
        except Exception as err:
            if self._wandb_init.get("mode") != "online":
                raise
            warn(
                f"W&B: the online run could not start ({type(err).__name__}: {err}); logging "
                "offline instead. Upload later with `wandb sync`."
            )
            self._wandb_init["mode"] = "offline"
            run = WandbLogger.experiment.fget(self)  # type: ignore[attr-defined]
        if starting:
            self._store_run_id(run)
        return run

    @property
    def finished(self) -> bool:
        """Whether the run was finished by :meth:`finalize` (using it again reopens it)."""
        return self._finished

    def _store_run_id(self, run: Any) -> None:
        if (
            self.run_dir is None
            or self._wandb_init.get("mode") == "disabled"
            or self._wandb_init.get("job_type") not in (None, "fit")
            or not getattr(run, "id", None)
        ):
            return
        atomic_write_text(self.run_dir / RUN_ID_FILE, f"{run.id}\n")

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)  # logs checkpoint artifacts when log_model is set
        if self._experiment is not None and not self._finished:
            self._experiment.finish(exit_code=0 if status in ("success", "finished") else 1)
            self._finished = True

    # ------------------------------------------------------------------ config and metrics
    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace) -> None:
        params = vars(params) if isinstance(params, Namespace) else dict(params)
        self.experiment.config.update(flatten_config(params), allow_val_change=True)
        tags = params.get("tags")
        if isinstance(tags, list | tuple) and tags:
            run = self.experiment
            run.tags = tuple(dict.fromkeys([*(run.tags or ()), *map(str, tags)]))

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        super().log_metrics(metrics, step)
        epoch = metrics.get("epoch")
        if epoch is None:
            return
        for key, value in metrics.items():
            number = _scalar(value)
            if number is None or key in ("epoch", "trainer/global_step"):
                continue
            best = self._extremes.setdefault(key, {})
            if "max" not in best or number > best["max"][0]:
                best["max"] = (number, int(epoch))
            if "min" not in best or number < best["min"][0]:
                best["min"] = (number, int(epoch))
        self._update_summary()

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        super().after_save_checkpoint(checkpoint_callback)
        monitor = getattr(checkpoint_callback, "monitor", None)
        if monitor:
            self._checkpoint_monitor = (str(monitor), str(checkpoint_callback.mode))
            self._update_summary()

    def monitor(self) -> tuple[str, str]:
        """(metric, mode) whose best value the summary holds."""
        metric, mode = self._checkpoint_monitor or DEFAULT_MONITOR
        if self.summary_metric:
            metric, mode = self.summary_metric, self.summary_mode or "max"
        return metric, self.summary_mode or mode

    @rank_zero_only
    def _update_summary(self) -> None:
        metric, mode = self.monitor()
        best = self._extremes.get(metric, {}).get(mode)
        if best is None:
            return
        value, epoch = best
        summary = self.experiment.summary
        key = f"best/{metric}"
        if self._summary_written is None:  # a resumed online run may hold a better value
            previous, previous_epoch = summary.get(key), summary.get("best/epoch")
            known = isinstance(previous, int | float) and previous_epoch is not None
            if known and ((previous > value) if mode == "max" else (previous < value)):
                value, epoch = float(previous), int(previous_epoch)
                self._extremes[metric][mode] = (value, epoch)
        if self._summary_written == (key, value, epoch):
            return
        if self._summary_written is not None and self._summary_written[0] != key:
            del summary[self._summary_written[0]]
        summary.update({key: value, "best/epoch": epoch})
        self._summary_written = (key, value, epoch)


def _scalar(value: Any) -> float | None:
    """A finite real number as float (0-d tensors and numpy scalars included), else None."""
    if hasattr(value, "numel") and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
