"""Images/s decoded (+ augmented) by one loader worker: PIL vs torchvision.io.decode_jpeg.

Runs the datamodule's own decode path (``clothret.datamodules.images.load_image``) and timm
transforms on the real photos in ``<repo>/../shared/data`` with one torch thread, as inside one
DataLoader worker. Rates are images per CPU second of this process (``time.process_time``), i.e.
per worker on a dedicated core: on a shared machine, wall-clock rates mostly measure the other
processes (they are reported too). The decoders alternate every 25 files, so drift hits both
alike; the median of the repeats is reported. The default decoder is chosen on the ``decode``
stage: the augmentation that follows is the same code on the same PIL image for both.

    .venv/bin/python benchmarks/dataloading.py [--images 400] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import PIL
import torch
import torchvision

from clothret.datamodules.images import DECODERS, load_image
from clothret.datamodules.transforms import build_transform

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("fashion-product", "clothing-cc0")
CHUNK = 25


def measure(files: list[Path], transform, repeats: int) -> dict[str, dict[str, float]]:
    """Median images/s per decoder, by CPU time and by wall time."""
    rates: dict[str, dict[str, list[float]]] = {d: {"cpu": [], "wall": []} for d in DECODERS}
    for repeat in range(repeats):
        cpu, wall = dict.fromkeys(DECODERS, 0.0), dict.fromkeys(DECODERS, 0.0)
        for n, start in enumerate(range(0, len(files), CHUNK)):
            part = files[start : start + CHUNK]
            for decoder in DECODERS if (n + repeat) % 2 == 0 else DECODERS[::-1]:
                c0, w0 = time.process_time(), time.perf_counter()
                for path in part:
                    image = load_image(path, decoder)
                    if transform is not None:
                        transform(image)
                cpu[decoder] += time.process_time() - c0
                wall[decoder] += time.perf_counter() - w0
        for decoder in DECODERS:
            rates[decoder]["cpu"].append(len(files) / cpu[decoder])
            rates[decoder]["wall"].append(len(files) / wall[decoder])
    return {d: {k: round(statistics.median(v), 1) for k, v in r.items()} for d, r in rates.items()}


def agreement(files: list[Path]) -> float:
    """Mean absolute pixel difference (0-255) between the two decoders."""
    diffs = []
    for path in files:
        a, b = (np.asarray(load_image(path, d), dtype=np.float32) for d in DECODERS)
        diffs.append(float(np.abs(a - b).mean()))
    return statistics.fmean(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--images", type=int, default=400, help="files per folder")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/dataloading.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()[0]
    config = {"input_size": (3, args.size, args.size)}
    stages = {
        "decode": None,
        "decode+train_aug": build_transform(config, train=True),
        "decode+eval": build_transform(config, train=False),
    }
    results: dict = {}
    for folder in FOLDERS:
        files = sorted((args.data / folder / "images").glob("*.jpg"))[: args.images]
        if not files:
            raise SystemExit(f"No images under {args.data / folder}; pass --data.")
        for path in files:  # warm the page cache so both decoders read from memory
            path.read_bytes()
        entry: dict = {"files": len(files), "mean_abs_pixel_diff": agreement(files[:50])}
        for stage, transform in stages.items():
            entry[stage] = measure(files, transform, args.repeats)
            entry[stage]["torchvision_speedup_cpu"] = round(
                entry[stage]["torchvision"]["cpu"] / entry[stage]["pil"]["cpu"], 3
            )
            print(folder, stage, entry[stage], flush=True)
        results[folder] = entry
    decode_speedup = statistics.fmean(
        results[f]["decode"]["torchvision_speedup_cpu"] for f in FOLDERS
    )
    faster = "torchvision" if decode_speedup > 1.0 else "pil"
    report = {
        "benchmark": "images per CPU second of one loader worker (1 torch thread); "
        "median of repeats; wall-clock rates alongside",
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average_1min": {"start": load_before, "end": os.getloadavg()[0]},
        },
        "versions": {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "pillow": PIL.__version__,
        },
        "settings": {"images_per_folder": args.images, "repeats": args.repeats, "size": args.size},
        "results": results,
        "decode_speedup_torchvision_over_pil": round(decode_speedup, 3),
        "faster_decoder": faster,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"faster decoder: {faster} (decode-only speedup of torchvision: {decode_speedup:.3f})")
    print(args.out)


if __name__ == "__main__":
    main()
