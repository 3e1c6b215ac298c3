"""Queries/s and recall@10 (relative to exact search) of every index type at 10^6 gallery items.

Data: L2-normalised 512-d features in tight clusters (``--cluster-size`` items around each random
centre, ``x = normalise(centre + noise * g / sqrt(D))``, so top-10 neighbours have cosine ~0.67
and other clusters ~0), and 128-bit codes from a random-projection hash (sign of ``x @ R``,
``R ~ N(0, 1)``). Queries are fresh samples from the same clusters, searched in batches. Every
configuration is timed ``--repeats`` times, all configurations in turn within each repeat (so
load drift on a shared machine hits them alike); reported are the median queries per wall
second and per process-CPU second (all threads; robust to other processes taking cores) and the
median over repeats of the ratio to ExactIndex in the same repeat. Absolute numbers are CPU-only
(2 cores here); the ratios to ExactIndex are the point. ``--threads 1`` gives the work ratio
without any thread contention.

    .venv/bin/python benchmarks/search.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import faiss
import numpy as np
import torch
from threadpoolctl import threadpool_limits

from clothret.retrieval.index import BinaryIndex, ExactIndex, HierarchicalIndex, IVFIndex

REPO = Path(__file__).resolve().parents[1]


def clustered(rng: np.random.Generator, centres: np.ndarray, n: int, noise: float) -> np.ndarray:
    out = np.empty((n, centres.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        x = rng.standard_normal((m, centres.shape[1]), dtype=np.float32)
        x *= noise / np.sqrt(centres.shape[1])
        x += centres[rng.integers(0, len(centres), m)]
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def make_data(args: argparse.Namespace) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(args.seed)
    centres = rng.standard_normal((args.gallery // args.cluster_size, args.dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    gallery = clustered(rng, centres, args.gallery, args.noise)
    query = clustered(rng, centres, args.queries, args.noise)
    projection = rng.standard_normal((args.dim, args.bits), dtype=np.float32)
    codes = np.concatenate(
        [gallery[i : i + 100_000] @ projection > 0 for i in range(0, len(gallery), 100_000)]
    )
    return gallery, query, codes, query @ projection > 0


def timed_search(
    index, batch: int, k: int = 10, **inputs: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Queries per wall second and per process-CPU second (all threads), and the ids found."""
    n = len(next(iter(inputs.values())))
    ids = []
    start, cpu = time.perf_counter(), time.process_time()
    for s in range(0, n, batch):
        ids.append(index.search(**{key: v[s : s + batch] for key, v in inputs.items()}, k=k)[1])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return n / wall, n / cpu, np.concatenate(ids)


def torch_exact(
    gallery: np.ndarray, query: np.ndarray, k: int, block: int = 65536
) -> tuple[float, float]:
    """Queries per wall and per CPU second of the alternative exact engine: numpy (OpenBLAS)
    matmul over gallery blocks + torch.topk, merging the per-block top-k."""
    start, cpu = time.perf_counter(), time.process_time()
    best_d, best_i = None, None
    sq = (gallery * gallery).sum(1)
    for s in range(0, len(gallery), block):
        scores = torch.from_numpy(2 * query @ gallery[s : s + block].T - sq[s : s + block])
        d, i = torch.topk(scores, k, dim=1)
        if best_d is not None:
            d, j = torch.topk(torch.cat([best_d, d], 1), k, dim=1)
            i = torch.cat([best_i, i + s], 1).gather(1, j)
        best_d, best_i = d, i
    return len(query) / (time.perf_counter() - start), len(query) / (time.process_time() - cpu)


def recall(ids: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(ids, truth, strict=True)])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^5 items, 200 queries")
    parser.add_argument("--gallery", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=250, help="queries per search call")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--bits", type=int, default=128)
    parser.add_argument("--cluster-size", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.75)
    parser.add_argument(
        "--candidates", type=int, nargs="+", default=[50, 100, 200, 300, 500, 1000, 2000, 5000]
    )
    parser.add_argument("--radii", type=int, nargs="+", default=[40, 42, 44, 46, 48])
    parser.add_argument("--nprobe", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/search.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # numpy's and faiss's OpenBLAS, OpenMP
    faiss.omp_set_num_threads(args.threads)
    if args.quick:
        args.gallery, args.queries, args.nlist, args.repeats = 100_000, 200, 256, 1
        args.out = args.out.with_name(args.out.stem + "_quick.json")
    if args.threads != os.cpu_count():
        args.out = args.out.with_name(args.out.stem + f"_{args.threads}thread.json")
    load_before = os.getloadavg()
    started = t0 = time.perf_counter()
    gallery, query, g_codes, q_codes = make_data(args)
    data_s = time.perf_counter() - t0
    floats, both = {"features": query}, {"features": query, "codes": q_codes}

    exact = ExactIndex(metric="euclidean")
    exact.add(features=gallery)
    truth = timed_search(exact, args.batch, features=query)[2]
    binary = BinaryIndex()
    binary.add(codes=g_codes)
    hier = HierarchicalIndex(candidates=args.candidates[0], metric="euclidean")
    hier.add(features=gallery, codes=g_codes)
    t0 = time.perf_counter()
    ivf = IVFIndex(nlist=args.nlist, nprobe=1, metric="euclidean")
    ivf.add(features=gallery)
    ivf_train_s = time.perf_counter() - t0

    configs = {"exact": (exact, {}, floats), "binary": (binary, {}, {"codes": q_codes})}
    configs.update(
        {
            f"hierarchical/candidates={c}": (hier, {"candidates": c, "hamming_radius": None}, both)
            for c in args.candidates
        }
    )
    configs.update(
        {
            f"hierarchical/radius={r}": (hier, {"candidates": None, "hamming_radius": r}, both)
            for r in args.radii
        }
    )
    configs.update({f"ivf/nprobe={p}": (ivf, {"nprobe": p}, floats) for p in args.nprobe})
    rates: dict[str, list[float]] = {name: [] for name in configs}
    cpu_rates: dict[str, list[float]] = {name: [] for name in configs}
    recalls: dict[str, float] = {}
    engines: dict[str, list[tuple[float, float]]] = {
        "faiss_flat": [],
        "numpy_matmul_torch_topk": [],
    }
    heap: dict[str, list[float]] = {}
    sub = query[: min(200, len(query))]
    for _ in range(args.repeats):
        for name, (index, attrs, inputs) in configs.items():
            for key, value in attrs.items():
                setattr(index, key, value)
            qps, cpu_qps, ids = timed_search(index, args.batch, **inputs)
            rates[name].append(qps)
            cpu_rates[name].append(cpu_qps)
            recalls[name] = recall(ids, truth)
        engines["faiss_flat"].append(timed_search(exact, args.batch, features=sub)[:2])
        engines["numpy_matmul_torch_topk"].append(torch_exact(gallery, sub, 10))
        packed = np.packbits(q_codes, axis=1)
        for k in (10, 100, 1000):
            for use_heap in (True, False):
                binary._index.use_heap = use_heap
                start = time.perf_counter()
                binary._index.search(packed, k)
                heap.setdefault(f"k={k}/use_heap={use_heap}", []).append(
                    len(packed) / (time.perf_counter() - start)
                )

    def speedup(table: dict[str, list[float]], name: str) -> float:
        """Median over repeats of the ratio to exact measured in the same repeat."""
        pairs = zip(table[name], table["exact"], strict=True)
        return round(statistics.median(a / b for a, b in pairs), 2)

    results = {
        name: {
            "queries_per_s_each_repeat": [round(x, 1) for x in r],
            "queries_per_s": round(statistics.median(r), 1),
            "speedup_vs_exact": speedup(rates, name),
            "queries_per_cpu_s": round(statistics.median(cpu_rates[name]), 1),
            "cpu_speedup_vs_exact": speedup(cpu_rates, name),
            "recall@10": round(recalls[name], 4),
        }
        for name, r in rates.items()
    }

    packed = np.packbits(q_codes, axis=1)
    for r in args.radii:
        hier.candidates, hier.hamming_radius = None, r
        sizes = (hier.candidate_pool(packed) >= 0).sum(1)
        results[f"hierarchical/radius={r}"]["pool_size_mean_median_max"] = [
            round(float(sizes.mean()), 1),
            int(np.median(sizes)),
            int(sizes.max()),
        ]

    def meeting(speedup: str) -> int | None:
        ok = [
            c
            for c in args.candidates
            if results[f"hierarchical/candidates={c}"]["recall@10"] >= 0.95
            and results[f"hierarchical/candidates={c}"][speedup] >= 10
        ]
        return min(ok) if ok else None

    report = {
        "benchmark": "search",
        "note": "CPU-only absolute times; compare ratios to exact from this one run.",
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "faiss_threads": faiss.omp_get_max_threads(),
            "threads": args.threads,
            "platform": platform.platform(),
            "faiss": faiss.__version__,
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "data_seconds": round(data_s, 1),
        "ivf_train_seconds": round(ivf_train_s, 1),
        "results": results,
        "exact_engines_median_queries_per_s": {
            k: {
                "wall": round(statistics.median(x[0] for x in v), 1),
                "cpu": round(statistics.median(x[1] for x in v), 1),
            }
            for k, v in engines.items()
        },
        "binary_faiss_heap_vs_counting_queries_per_s": {
            k: round(statistics.median(v), 1) for k, v in heap.items()
        },
        "hierarchical_target": {
            "goal": "recall@10 >= 0.95 at >= 10x the queries/s of exact",
            "smallest_candidates_meeting_goal_wall": meeting("speedup_vs_exact"),
            "smallest_candidates_meeting_goal_cpu": meeting("cpu_speedup_vs_exact"),
            "radii_meeting_goal_cpu": [
                r
                for r in args.radii
                if results[f"hierarchical/radius={r}"]["recall@10"] >= 0.95
                and results[f"hierarchical/radius={r}"]["cpu_speedup_vs_exact"] >= 10
            ],
            "smallest_candidates_with_recall_0.95": min(
                (
                    c
                    for c in args.candidates
                    if results[f"hierarchical/candidates={c}"]["recall@10"] >= 0.95
                ),
                default=None,
            ),
        },
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
