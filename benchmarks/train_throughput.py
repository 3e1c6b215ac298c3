"""Training images/s: Lightning vs a plain PyTorch loop, precision, data loading vs in-memory.

The model is the smoke experiment's module (ResNet-18 at 64 px, embedding head, triplet loss
with batch-hard mining, AdamW), batches of 32 from the generated sample data. Three measures:

* framework overhead (every device): the same training steps (forward, loss, backward,
  optimiser step) on the same in-memory batches, once through ``Trainer.fit`` and once in a
  plain loop; ratio = plain images/s ÷ Lightning images/s (target ≤ 1.05 on CPU). Runs
  alternate and the median of the repeats is kept, so drift on a shared machine hits both; on
  CPU the rates per process CPU second are the steadier measure there (``--threads 1`` keeps
  other jobs' load from inflating them through thread contention).
* precision (CUDA, or ``--full``): Lightning with ``32-true`` vs ``bf16-mixed``.
* data loading (CUDA, or ``--full``): Lightning fed by the datamodule's DataLoader (default
  worker count) vs by in-memory batches (target: loading costs ≤ 10 %).

Results go to ``benchmarks/results/train_throughput.json`` under the device kind (``cpu``,
``cuda``), keeping the other devices' entries, with the device named.

    .venv/bin/python benchmarks/train_throughput.py [--device cuda] [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from clothret import config, keys
from clothret.experiment import build_backbone, build_datamodule, build_module

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "train_throughput.json"


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class StepTimer(pl.Callback):
    """Wall and process CPU time from the start of step ``warmup`` to the end of the last one."""

    def __init__(self, warmup: int, device: str) -> None:
        self.warmup, self.device = warmup, device
        self.start: tuple[float, float] | None = None
        self.end: tuple[float, float] | None = None

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.warmup and self.start is None:
            _sync(self.device)
            self.start = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        _sync(self.device)
        self.end = (time.perf_counter(), time.process_time())


class InMemory:
    """Pre-made batches as one loader (a bare list would be read as a list of loaders)."""

    def __init__(self, batches: list[dict[str, Any]]) -> None:
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _to(batch: dict[str, Any], device: str) -> dict[str, Any]:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def lightning_rate(
    module: pl.LightningModule, data: Any, args: argparse.Namespace, precision: str = "32-true"
) -> tuple[float, float]:
    """(images/s wall, images/s per CPU second) of ``args.steps`` steps after the warm-up."""
    timer = StepTimer(args.warmup, args.device)
    trainer = pl.Trainer(
        accelerator=args.device,
        devices=1,
        precision=precision,
        max_steps=args.warmup + args.steps,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    if isinstance(data, pl.LightningDataModule):
        trainer.fit(module, datamodule=data)
    else:
        trainer.fit(module, train_dataloaders=InMemory(data))
    assert timer.start is not None and timer.end is not None
    images = args.steps * args.batch_size
    return images / (timer.end[0] - timer.start[0]), images / (timer.end[1] - timer.start[1])


def plain_rate(
    module: pl.LightningModule, batches: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[float, float]:
    """The same steps written out: forward, weighted loss terms, backward, optimiser step."""
    module = module.to(args.device).train()
    optimizer = module.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    start = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            _sync(args.device)
            start = (time.perf_counter(), time.process_time())
        batch = batches[step % len(batches)]
        optimizer.zero_grad(set_to_none=True)
        outputs = module(batch[keys.IMAGE], batch.get(keys.DOMAIN))
        loss = sum(term.weight * term(outputs, batch) for term in module.loss_terms.values())
        loss.backward()
        optimizer.step()
    _sync(args.device)
    assert start is not None
    images = args.steps * args.batch_size
    return images / (time.perf_counter() - start[0]), images / (time.process_time() - start[1])


def _with(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), **changes})


def compare(
    template: pl.LightningModule, batches: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Rates of alternating plain and Lightning runs, after one discarded warm-up run."""
    plain_rate(copy.deepcopy(template), batches, args)  # first-use allocations
    plain, lightning = [], []
    for repeat in range(args.repeats):  # alternate, so drift on a shared machine hits both
        runs = [(plain, plain_rate), (lightning, lightning_rate)]
        for rates, measure in runs if repeat % 2 == 0 else runs[::-1]:
            rates.append(measure(copy.deepcopy(template), batches, args))
        print("plain", plain[-1], "lightning", lightning[-1], flush=True)
    return plain, lightning


def minimal_model(
    batches: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[pl.LightningModule, list[dict[str, Any]]]:
    """The preset's module with an 8-channel one-stage backbone, and the batches at 16 px."""
    overrides = ["backbone=tiny_convnet", "backbone.widths=[8]", "backbone.img_size=16"]
    cfg = config.compose("smoke", [*overrides, "module.heads.embedding.dim=8"])
    module = build_module(cfg, build_backbone(cfg), {})
    small = [
        {**b, keys.IMAGE: torch.nn.functional.interpolate(b[keys.IMAGE], size=(16, 16))}
        for b in batches
    ]
    return module, small


def _median(pairs: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "wall": round(statistics.median(p[0] for p in pairs), 1),
        "cpu": round(statistics.median(p[1] for p in pairs), 1),
    }


def device_name(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="precision and loading on CPU too")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (CPU)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available.")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = config.compose("smoke", ["trainer.enable_progress_bar=false"])
    pl.seed_everything(0, verbose=False)
    backbone = build_backbone(cfg)
    datamodule = build_datamodule(cfg, backbone, None, "fit")
    args.batch_size = datamodule.batch_size
    loader = datamodule.train_dataloader()
    batches = [_to(b, args.device) for b, _ in zip(loader, range(16), strict=False)]
    template = build_module(cfg, backbone, dict(datamodule.runtime_info()))
    load_before = os.getloadavg()[0]

    plain, lightning = compare(template, batches, args)
    pairs = list(zip(plain, lightning, strict=True))
    result: dict[str, Any] = {
        "device": device_name(args.device),
        "plain_loop_images_per_s": _median(plain),
        "lightning_images_per_s": _median(lightning),
        # Median of the ratios of adjacent runs (plain ÷ Lightning images/s).
        "overhead_ratio": {
            k: round(statistics.median(a[i] / b[i] for a, b in pairs), 3)
            for i, k in enumerate(("wall", "cpu"))
        },
    }
    # The same comparison on a model with almost no compute (a one-stage CNN at 16 px) gives
    # Lightning's own time per step, well above the noise of the full model's step time.
    tiny_plain, tiny_lightning = compare(*minimal_model(batches, args), _with(args, steps=200))
    basis = 1 if args.device == "cpu" else 0  # per CPU second on CPU, wall clock on CUDA
    ms = [
        1000 * args.batch_size * (1 / q[basis] - 1 / p[basis])
        for p, q in zip(tiny_plain, tiny_lightning, strict=True)
    ]
    step_ms = 1000 * args.batch_size / result["plain_loop_images_per_s"][("wall", "cpu")[basis]]
    result["lightning_ms_per_step"] = round(statistics.median(ms), 2)
    result["plain_loop_ms_per_step"] = round(step_ms, 1)
    result["overhead_ratio_from_ms_per_step"] = round(1 + statistics.median(ms) / step_ms, 4)
    result["overhead_target"] = 1.05

    if args.device == "cuda" or args.full:
        bf16 = [
            lightning_rate(copy.deepcopy(template), batches, args, "bf16-mixed")
            for _ in range(args.repeats)
        ]
        result["precision_images_per_s"] = {
            "32-true": result["lightning_images_per_s"],
            "bf16-mixed": _median(bf16),
        }
        loading = [
            lightning_rate(copy.deepcopy(template), datamodule, args) for _ in range(args.repeats)
        ]
        result["data_loading"] = {
            "num_workers": datamodule.num_workers,
            "in_memory_images_per_s": result["lightning_images_per_s"],
            "dataloader_images_per_s": _median(loading),
            "ratio_wall": round(
                _median(loading)["wall"] / result["lightning_images_per_s"]["wall"], 3
            ),
            "target_ratio": 0.9,
        }

    result["settings"] = {
        "preset": "smoke (module=retrieval, backbone=resnet18 at 64 px, loss=triplet)",
        "batch_size": args.batch_size,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": {"start": load_before, "end": os.getloadavg()[0]},
        "versions": {"torch": torch.__version__, "pytorch_lightning": pl.__version__},
    }
    report = json.loads(args.out.read_text()) if args.out.is_file() else {}
    report["benchmark"] = (
        "training images/s of the smoke preset: Lightning vs a plain loop on the same in-memory "
        "batches (median of alternating repeats; wall clock and per process CPU second)"
    )
    report.setdefault("results", {})[args.device] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(args.out)


if __name__ == "__main__":
    main()
