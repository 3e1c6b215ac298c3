"""ManifestDataModule: the manifest (DESIGN §5) → validated splits → datasets → loaders.

Every dataset format is a subclass. The contract:

- ``__init__`` takes the format's own params as explicit keywords and forwards ``**kwargs`` to
  this base (the registry follows ``**kwargs`` up the MRO to validate config keys). A subclass
  may change a base default by declaring the param and passing it on (``relevance="category"``).
  ``__init__`` reads no data: default YAMLs are built without any dataset present.
- ``read_manifest(self) -> pd.DataFrame`` returns one row per image with the DESIGN §5 columns;
  ``path`` is absolute or relative to ``self.root``. It is called once per process, in ``setup``;
  validation, file checks, vocabularies and reports follow here.
- ``source`` (class attribute or set in ``__init__``) names the dataset in error messages.
- Downloading or generating data belongs in ``prepare_data`` (run on one process per node).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from clothret.datamodules import manifest as mf
from clothret.datamodules.dataset import ManifestDataset
from clothret.datamodules.images import DEFAULT_DECODER, BadImage, check_decoder
from clothret.datamodules.prepare import (
    check_files_exist,
    drop_bad_images,
    resolve_files,
    split_report,
)
from clothret.datamodules.samplers.base import resolve_world
from clothret.datamodules.transforms import build_transform, check_train_options
from clothret.datamodules.vocab import Vocab
from clothret.errors import ConfigError, DataError
from clothret.registry import build, get
from clothret.utils.progress import resume_position

log = logging.getLogger(__name__)

VOCAB_FILE = "vocab.json"
STAGE_SPLITS = {"validate": ("val_query", "val_gallery"), "test": ("query", "gallery")}


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"data.{name}={value!r}; expected one of {', '.join(allowed)}.")
    return value


class ManifestDataModule(pl.LightningDataModule):
    """Loads any manifest; subclasses implement :meth:`read_manifest`.

    Args:
        root: folder that relative ``path`` values are relative to (None: as given).
        batch_size: training images per batch and process (P×K for identity samplers).
        eval_batch_size: images per evaluation batch (default: ``batch_size``).
        num_workers: DataLoader worker processes.
        sampler: training sampler node of the ``sampler`` group (None: ``random``), or a
            ready ``torch.utils.data.Sampler``.
        train_transform: training augmentation options (see ``transforms.TRAIN_DEFAULTS``).
        crop_bbox: crop images to their bbox (with ``bbox_margin``) before the transform.
        bbox_margin: context kept around a bbox, as a fraction of its size per side.
        on_bad_image: ``error`` (a bad file stops the run, naming file and row) or ``skip``
            (all images are checked up front; bad rows are dropped and listed in
            ``run_dir/bad_images.csv``).
        relevance: what makes a gallery image relevant to a query: the same ``item`` or the
            same ``category``.
        attributes: attribute tasks to use (``attr_<task>`` columns; None: all of them).
        decoder: JPEG decoder, ``torchvision`` or ``pil`` (same pixels; see the benchmark).
        seed: seed of the samplers and of ``limit_items``; identical on every process.
        limit_items: keep at most this many items in training and in each evaluation pair.
        persistent_workers: keep workers between epochs (default: when ``num_workers > 0``).
        pin_memory: pin batches for GPU transfer (default: when CUDA is available).
        check_threads: threads that check images up front under ``on_bad_image=skip``.
        vocab: path of a saved ``vocab.json`` to use instead of building one from training.
        predict_split: split served by ``predict_dataloader`` (a split name, or ``validate``
            / ``test`` for that stage's queries then gallery).
        data_config: the backbone's timm data config (input size, mean/std, ...); runtime.
        run_dir: where ``bad_images.csv`` and ``vocab.json`` are written (None: not written).
    """

    source = "manifest"  # named in messages; subclasses set something more specific

    def __init__(
        self,
        root: str | None = None,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 2,
        sampler: Mapping[str, Any] | str | Sampler | None = "pk",
        train_transform: Mapping[str, Any] | None = None,
        crop_bbox: bool = False,
        bbox_margin: float = 0.1,
        on_bad_image: str = "error",
        relevance: str = "item",
        attributes: list[str] | None = None,
        decoder: str = DEFAULT_DECODER,
        seed: int = 0,
        limit_items: int | None = None,
        persistent_workers: bool | None = None,
        pin_memory: bool | None = None,
        check_threads: int = 8,
        vocab: str | None = None,
        predict_split: str = "gallery",
        data_config: Mapping[str, Any] | None = None,
        run_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.root = None if root is None else Path(root).expanduser()
        self.batch_size, self.num_workers = int(batch_size), int(num_workers)
        self.eval_batch_size = int(eval_batch_size or batch_size)
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ConfigError("data.batch_size and data.eval_batch_size must be positive.")
        self.sampler = {"name": "random"} if sampler is None else sampler
        if isinstance(self.sampler, str):
            self.sampler = {"name": self.sampler}
        if isinstance(self.sampler, Mapping) and "name" in self.sampler:
            get("sampler", str(self.sampler["name"]))  # an unknown name fails now, not at fit
        check_train_options(train_transform)
        self.train_transform = dict(train_transform or {})
        self.crop_bbox, self.bbox_margin = bool(crop_bbox), float(bbox_margin)
        self.on_bad_image = _choice("on_bad_image", on_bad_image, ("error", "skip"))
        self._relevance = _choice("relevance", relevance, ("item", "category"))
        self.attributes = None if attributes is None else [str(a) for a in attributes]
        self.decoder = check_decoder(decoder)
        self.seed, self.limit_items = int(seed), limit_items
        self.persistent_workers = (
            self.num_workers > 0 if persistent_workers is None else bool(persistent_workers)
        )
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else bool(pin_memory)
        self.check_threads = int(check_threads)
        self.vocab_path = vocab
        allowed = (*mf.SPLITS, *STAGE_SPLITS)
        self.predict_split = _choice("predict_split", predict_split, allowed)
        self.data_config = None if data_config is None else dict(data_config)
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.frame: pd.DataFrame | None = None  # the validated manifest in use, after setup
        self.bad_images: list[BadImage] = []
        self.report: dict[str, Any] = {}
        self._vocab: Vocab | None = None
        self._item_index: dict[str, int] = {}
        self._datasets: dict[str, ManifestDataset] = {}

    # --- what subclasses provide -------------------------------------------------------------
    def read_manifest(self) -> pd.DataFrame:
        """The manifest: one row per image with the DESIGN §5 columns (``path`` absolute or
        relative to ``self.root``). Called once, in ``setup``, on every process."""
        raise NotImplementedError(f"{type(self).__name__} must implement read_manifest().")

    # --- setup -------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self.frame is None:
            self._prepare()

    def _prepare(self) -> None:
        frame = mf.validate_manifest(self.read_manifest(), self.source)
        if self.attributes is not None:
            frame = mf.select_attributes(frame, self.attributes, self.source)
        frame = resolve_files(frame, self.root)
        if self.limit_items:
            frame = mf.subset_items(frame, int(self.limit_items), self.seed)
        if self.on_bad_image == "skip":
            report_dir = self.run_dir if self._is_main_process() else None
            frame, self.bad_images = drop_bad_images(
                frame, self.source, self.check_threads, report_dir
            )
        else:
            check_files_exist(frame)
        mf.check_eval_sets(frame, self.source, "query", "gallery")
        if frame["split"].isin(STAGE_SPLITS["validate"]).any():
            mf.check_eval_sets(frame, self.source, *STAGE_SPLITS["validate"])
        if self.vocab_path:
            self._vocab = Vocab.load(self.vocab_path)
        else:
            self._vocab = Vocab.from_frame(frame[frame["split"] == "train"])
        if self.run_dir is not None and self._is_main_process():
            self._vocab.save(self.run_dir / VOCAB_FILE)
        self._item_index = {item: i for i, item in enumerate(sorted(set(frame["item_id"])))}
        self.frame = frame
        pairs = {stage: self.eval_splits(stage) for stage in STAGE_SPLITS}
        self.report = split_report(frame, self._relevance, pairs, self._is_main_process())
        self.report["bad_images"] = len(self.bad_images)

    def _is_main_process(self) -> bool:
        return resolve_world(None, None)[1] == 0

    # --- what the rest of the package reads --------------------------------------------------
    @property
    def vocab(self) -> Vocab:
        self.setup()
        assert self._vocab is not None
        return self._vocab

    @property
    def relevance(self) -> str:
        return self._relevance

    def runtime_info(self) -> dict[str, Any]:
        """Values injected into the model's components: category and attribute sizes."""
        vocab = self.vocab
        return {
            "num_categories": vocab.num_categories,
            "attribute_dims": vocab.attribute_dims,
            "label_counts": dict(vocab.label_counts),
        }

    def eval_splits(self, stage: str) -> tuple[str, str]:
        """(query split, gallery split) of ``validate`` (val_* when present) or ``test``."""
        splits = STAGE_SPLITS[stage]
        if (
            stage == "validate"
            and self.frame is not None
            and not self.frame["split"].isin(splits).any()
        ):
            return STAGE_SPLITS["test"]
        return splits

    # --- datasets ----------------------------------------------------------------------------
    def split_frame(self, split: str) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Rows of a split (or of ``validate``/``test``: queries and gallery grouped by item) and
        IS_QUERY."""
        self.setup()
        frame = self.frame
        assert frame is not None
        if split in STAGE_SPLITS:
            query, gallery = self.eval_splits(split)
            rows = pd.concat([frame[frame["split"] == query], frame[frame["split"] == gallery]])
            # Grouped by item (stable: queries before gallery within an item), so that any prefix
            # of the evaluation loader (limit_val_batches, fast_dev_run) holds matching pairs.
            rows = rows.sort_values("item_id", kind="stable")
            return rows, (rows["split"] == query).to_numpy()
        rows = frame[frame["split"] == split]
        return rows, None if split == "train" else np.full(len(rows), "query" in split)

    def dataset(self, split: str) -> ManifestDataset:
        """The dataset of ``split`` (train: augmented; others: eval transform), built once."""
        if split not in self._datasets:
            rows, is_query = self.split_frame(split)
            if len(rows) == 0:
                raise DataError(f"{self.source} has no '{split}' rows (column 'split').")
            transform = build_transform(self.data_config, split == "train", self.train_transform)
            dataset = ManifestDataset(
                rows,
                self._item_index,
                self.vocab,
                transform,
                decoder=self.decoder,
                crop_bbox=self.crop_bbox,
                bbox_margin=self.bbox_margin,
                is_query=is_query,
                source=self.source,
            )
            if self._is_main_process():
                dataset.log_unknown_labels(split)
            self._datasets[split] = dataset
        return self._datasets[split]

    # --- loaders -----------------------------------------------------------------------------
    def _loader_kwargs(self) -> dict[str, Any]:
        return {
            "num_workers": self.num_workers,
            "persistent_workers": self.persistent_workers and self.num_workers > 0,
            "pin_memory": self.pin_memory,
        }

    def build_sampler(self, dataset: ManifestDataset) -> Sampler:
        """The training sampler from the ``sampler`` node, given the dataset's labels."""
        if isinstance(self.sampler, Sampler):
            return self.sampler
        runtime = {
            "item_ids": dataset.item_ids,
            "categories": dataset.categories,
            "domains": dataset.domains,
            "num_samples": len(dataset),
            "batch_size": self.batch_size,
            "seed": self.seed,
        }
        return build("sampler", self.sampler, at="data.sampler", **runtime)

    def train_dataloader(self) -> DataLoader:
        dataset = self.dataset("train")
        sampler = self.build_sampler(dataset)
        trainer = getattr(self, "trainer", None)
        if trainer is not None and hasattr(sampler, "resume"):
            # Before the loader is iterated: its workers draw indices as soon as it starts, before
            # Lightning calls set_epoch, so a resumed run would replay epoch 0's order.
            sampler.resume(*resume_position(trainer))
        batch_size = getattr(sampler, "batch_size", self.batch_size)
        return DataLoader(
            dataset, batch_size=batch_size, sampler=sampler, drop_last=True, **self._loader_kwargs()
        )

    def eval_dataloader(self, split: str) -> DataLoader:
        """A loader over ``split`` in order, never dropping the last batch; under DDP each
        process gets a share (padded by repetition; ``INDEX`` identifies the duplicates)."""
        dataset = self.dataset(split)
        world, rank = resolve_world(None, None)
        sampler = None
        if world > 1:
            sampler = DistributedSampler(dataset, world, rank, shuffle=False, drop_last=False)
        return DataLoader(
            dataset,
            batch_size=self.eval_batch_size,
            shuffle=False,
            sampler=sampler,
            drop_last=False,
            **self._loader_kwargs(),
        )

    def val_dataloader(self) -> DataLoader:
        return self.eval_dataloader("validate")

    def test_dataloader(self) -> DataLoader:
        return self.eval_dataloader("test")

    def predict_dataloader(self) -> DataLoader:
        return self.eval_dataloader(self.predict_split)

    # --- checkpoints: the vocabulary travels with the model ----------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"vocab": self.vocab.to_dict()} if self._vocab is not None else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "vocab" in state_dict:
            self._vocab = Vocab.from_dict(state_dict["vocab"])
            self._datasets.clear()
