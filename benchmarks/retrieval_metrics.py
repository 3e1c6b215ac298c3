"""retrieval_metrics at DeepFashion In-shop scale vs torchmetrics and pytorch-metric-learning.

Inputs: 14,218 queries x 12,612 gallery images of 3,985 items (the In-shop test split sizes),
512-d non-negative float features (softplus of item centre + noise, like pooled activations;
every cosine is > 0, which torchmetrics' precision/MAP need) and 128-bit codes (sign of a
random projection of the centred features). Every measurement runs in its own process
(``--worker``), which reports its wall time for the metric call and its peak RSS
(``resource.getrusage``), so memory is not shared.

* ours: ``retrieval_metrics`` for ks 1, 5, 10, 20, 50 (15 values), median of ``--repeats``.
* torchmetrics: RetrievalHitRate / RetrievalPrecision / RetrievalMAP(top_k=k) on the flat Q x G
  inputs. Its memory and time grow with Q * G (tens of GB for all queries), so it runs on the first
  ``--tm-queries`` queries (two subset sizes, to show the linear growth) and time and memory
  above the process baseline are scaled to all queries; values are compared with ours on the
  same subset. Float preds are the float32 cosines our ranking sees (the same faiss search,
  all G results scattered back); code preds are the integer key
  ``(bits - hamming + 1) * G - index`` (exact in float32), which carries the lower-index tie
  rule that torchmetrics' sort does not have.
* pytorch-metric-learning: ``AccuracyCalculator(k=50)`` with a faiss inner-product kNN on the
  L2-normalised float features; ``precision_at_1`` and ``precision_at_k`` (PML's function,
  through its documented ``calculate_*`` extension) coincide with our precision@k (every query
  has a relevant item here). Its MAP normalises by all relevant items, not those retrieved, and
  it has no hit@k; it breaks Hamming ties arbitrarily, so it is run on float features only.

Absolute times are CPU-only (2 cores here) and depend on the machine's load (recorded).

    .venv/bin/python benchmarks/retrieval_metrics.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KS = (1, 5, 10, 20, 50)


def make_data(args: argparse.Namespace, out: Path) -> None:
    rng = np.random.default_rng(args.seed)
    centres = rng.standard_normal((args.items, args.dim), dtype=np.float32)
    g_items = np.concatenate([np.arange(args.items), rng.integers(0, args.items, args.gallery)])
    g_items = g_items[: args.gallery]
    q_items = rng.integers(0, args.items, args.queries)
    projection = rng.standard_normal((args.dim, args.bits), dtype=np.float32)
    mean = None
    for name, items in (("gallery", g_items), ("query", q_items)):
        noise = rng.standard_normal((len(items), args.dim), dtype=np.float32)
        feats = np.logaddexp(0, 2 * (centres[items] + args.noise * noise)).astype(np.float32)
        mean = feats.mean(0) if mean is None else mean
        np.save(out / f"{name}.npy", feats)
        np.save(out / f"{name}_codes.npy", (feats - mean) @ projection > 0)
        np.save(out / f"{name}_items.npy", items)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(data: Path, codes: bool, n_queries: int | None = None) -> tuple[np.ndarray, ...]:
    suffix = "_codes" if codes else ""
    q, g = np.load(data / f"query{suffix}.npy"), np.load(data / f"gallery{suffix}.npy")
    qi, gi = np.load(data / "query_items.npy"), np.load(data / "gallery_items.npy")
    return q[:n_queries], qi[:n_queries], g, gi


def worker_ours(args: argparse.Namespace) -> dict:
    import torch  # noqa: F401  (imported before the baseline, like the other workers)

    from clothret.retrieval.metrics import retrieval_metrics

    metric = "hamming" if args.codes else "cosine"
    q, qi, g, gi = load(args.data, args.codes)
    retrieval_metrics(q[:200], qi[:200], g, gi, ks=KS, metric=metric)  # thread pools up
    baseline = rss_mb()
    times, cpu_times = [], []
    for _ in range(args.repeats):
        start, cpu = time.perf_counter(), time.process_time()
        values = retrieval_metrics(q, qi, g, gi, ks=KS, metric=metric)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
    peak = peak_mb()
    subsets = {
        str(n): retrieval_metrics(q[:n], qi[:n], g, gi, ks=KS, metric=metric)
        for n in args.tm_queries
    }
    return {
        "ties_across_cut": None if args.codes else ties_across_cut(q, g),
        "seconds": statistics.median(times),
        "seconds_all": times,
        "cpu_seconds": statistics.median(cpu_times),
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "values": values,
        "subset_values": subsets,
    }


def ties_across_cut(q: np.ndarray, g: np.ndarray) -> dict[str, int]:
    """Queries whose k-th and (k+1)-th float32 cosines are exactly equal, per k: there a peer
    that orders ties arbitrarily may keep the other item than our lower-index rule."""
    import faiss

    from clothret.retrieval.ranking import prepare

    qs, gs, _ = prepare(q, g, "cosine")
    index = faiss.IndexFlatIP(gs.shape[1])
    index.add(gs.numpy())
    values = index.search(qs.numpy(), max(KS) + 1)[0]
    return {str(k): int((values[:, k] == values[:, k - 1]).sum()) for k in KS}


def worker_torchmetrics(args: argparse.Namespace) -> dict:
    import faiss
    import torch
    from torchmetrics.retrieval import RetrievalHitRate, RetrievalMAP, RetrievalPrecision

    from clothret.retrieval.ranking import prepare

    q, qi, g, gi = load(args.data, args.codes, args.n_queries)
    for cls in (RetrievalHitRate, RetrievalPrecision, RetrievalMAP):  # first-call overheads
        cls(top_k=1)(torch.rand(8), torch.rand(8) > 0.5, indexes=torch.arange(8) // 4)
    baseline = rss_mb()
    start = time.perf_counter()
    if args.codes:  # exact integer key carrying the tie rule, > 0
        qs, gs, _ = prepare(q, g, "hamming")
        dot = (qs @ gs.T).to(torch.int64)  # bits - 2 * hamming
        hamming = (qs.shape[1] - dot) // 2
        preds = ((qs.shape[1] - hamming + 1) * len(g) - torch.arange(len(g))).to(torch.float32)
    else:  # the float32 cosines retrieval_metrics ranks: same normalisation, same faiss search
        qs, gs, _ = prepare(q, g, "cosine")
        index = faiss.IndexFlatIP(gs.shape[1])
        index.add(gs.numpy())
        values, ids = index.search(qs.numpy(), len(g))
        preds = torch.empty(len(q), len(g))
        preds.scatter_(1, torch.from_numpy(ids), torch.from_numpy(values))
    target = torch.from_numpy(qi[:, None] == gi[None, :])
    indexes = torch.arange(len(q)).repeat_interleave(len(g))
    preds, target = preds.flatten(), target.flatten()
    preds_s = time.perf_counter() - start
    values, start = {}, time.perf_counter()
    cpu = time.process_time()
    for name, cls in (
        ("hit", RetrievalHitRate),
        ("precision", RetrievalPrecision),
        ("map", RetrievalMAP),
    ):
        for k in KS:
            values[f"{name}@{k}"] = float(cls(top_k=k)(preds, target, indexes=indexes))
    return {
        "queries": len(q),
        "metric_seconds": time.perf_counter() - start,
        "preds_seconds": preds_s,
        "metric_cpu_seconds": time.process_time() - cpu,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_mb(),
        "values": values,
    }


def worker_pml(args: argparse.Namespace) -> dict:
    import faiss
    import torch
    from pytorch_metric_learning.utils.accuracy_calculator import (
        AccuracyCalculator,
        precision_at_k,
    )
    from pytorch_metric_learning.utils.inference import FaissKNN

    from clothret.retrieval.ranking import prepare

    class Calculator(AccuracyCalculator):
        def calculate_precision_at_k(self, knn_labels, query_labels, **kwargs):
            return {
                k: precision_at_k(knn_labels, query_labels[:, None], k, False, False, torch.eq)
                for k in KS
            }

        def requires_knn(self):
            return [*super().requires_knn(), "precision_at_k"]

    q, qi, g, gi = load(args.data, codes=False)
    qs, gs, _ = prepare(q, g, "cosine")  # bit-identical unit vectors to the ones we rank
    q, g = qs.numpy(), gs.numpy()
    calc = Calculator(
        include=("precision_at_1", "precision_at_k"),
        k=max(KS),
        device=torch.device("cpu"),
        knn_func=FaissKNN(index_init_fn=faiss.IndexFlatIP),
    )
    baseline = rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    result = calc.get_accuracy(q, qi, g, gi)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    values = {"precision_at_1": result["precision_at_1"]}
    values.update({f"precision_at_k/{k}": v for k, v in result["precision_at_k"].items()})
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak_mb(),
        "values": values,
    }


WORKERS = {"ours": worker_ours, "torchmetrics": worker_torchmetrics, "pml": worker_pml}


def run_worker(args: argparse.Namespace, data: Path, name: str, *extra: str) -> dict:
    command = [sys.executable, __file__, "--worker", name, "--data", str(data)]
    command += ["--repeats", str(args.repeats), "--threads", str(args.threads)]
    command += ["--tm-queries", *map(str, args.tm_queries)]
    done = subprocess.run([*command, *extra], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} {extra} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def max_diff(a: dict[str, float], b: dict[str, float], keys: list[str]) -> float:
    return max(abs(a[key] - b[key]) for key in keys)


def compare(args: argparse.Namespace, data: Path) -> dict:
    report: dict = {}
    for kind, flag in (("float_cosine", []), ("codes_128bit_hamming", ["--codes"])):
        ours = run_worker(args, data, "ours", *flag)
        tm_runs = [
            run_worker(args, data, "torchmetrics", "--n-queries", str(n), *flag)
            for n in args.tm_queries
        ]
        # Time and memory above the baseline grow linearly with Q * G: extrapolate from the
        # largest subset, and report the per-query slope of the two subsets as a check.
        big, small = tm_runs[-1], tm_runs[0]
        scale = args.queries / big["queries"]
        extra = big["peak_rss_mb"] - big["baseline_rss_mb"]
        tm = {
            "measured_subsets": tm_runs,
            "scaled_to_all_queries": {
                "metric_seconds": big["metric_seconds"] * scale,
                "peak_rss_mb": big["baseline_rss_mb"] + extra * scale,
                "metric_seconds_per_query_subset_small_vs_big": [
                    small["metric_seconds"] / small["queries"],
                    big["metric_seconds"] / big["queries"],
                ],
            },
            "max_abs_diff_vs_ours_same_subset": {
                str(run["queries"]): max_diff(
                    run["values"], ours["subset_values"][str(run["queries"])], list(run["values"])
                )
                for run in tm_runs
            },
        }
        entry = {"ours": ours, "torchmetrics": tm}
        entry["time_ratio_torchmetrics_over_ours"] = (
            tm["scaled_to_all_queries"]["metric_seconds"] / ours["seconds"]
        )
        entry["memory_ratio_torchmetrics_over_ours"] = (
            tm["scaled_to_all_queries"]["peak_rss_mb"] / ours["peak_rss_mb"]
        )
        if kind.startswith("float"):
            pml = run_worker(args, data, "pml")
            v = ours["values"]
            pairs = {"precision_at_1": v["hit@1"]}
            pairs.update({f"precision_at_k/{k}": v[f"precision@{k}"] for k in KS})
            pml["abs_diff_vs_ours"] = {k: abs(pml["values"][k] - x) for k, x in pairs.items()}
            pml["max_abs_diff_vs_ours"] = max(pml["abs_diff_vs_ours"].values())
            pml["note"] = (
                "A difference of 1/(k*Q) at some k comes from a query whose k-th and (k+1)-th "
                "float32 cosines are exactly equal (ours.ties_across_cut): ours keeps the lower "
                "gallery index, faiss inside PML keeps either."
            )
            entry["pytorch_metric_learning"] = pml
            entry["time_ratio_pml_over_ours"] = pml["seconds"] / ours["seconds"]
        report[kind] = entry
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 x 2,000, small subsets")
    parser.add_argument("--queries", type=int, default=14_218)
    parser.add_argument("--gallery", type=int, default=12_612)
    parser.add_argument("--items", type=int, default=3_985)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--bits", type=int, default=128)
    parser.add_argument("--noise", type=float, default=1.75, help="image noise vs item centre")
    parser.add_argument("--tm-queries", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks/results/retrieval_metrics.json"
    )
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--codes", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--n-queries", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        with threadpool_limits(args.threads):  # numpy's and faiss's OpenBLAS, OpenMP
            print(json.dumps(WORKERS[args.worker](args)))
        return
    if args.quick:
        args.queries, args.gallery, args.items, args.tm_queries = 2000, 2000, 600, [100, 200]
        args.out = args.out.with_name(args.out.stem + "_quick.json")
    if args.threads != os.cpu_count():
        args.out = args.out.with_name(args.out.stem + f"_{args.threads}thread.json")
    load_before, started = os.getloadavg(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        make_data(args, Path(tmp))
        results = compare(args, Path(tmp))
    import faiss
    import torch
    import torchmetrics

    report = {
        "benchmark": "retrieval_metrics",
        "note": "CPU-only absolute times on a shared 2-core machine; ratios are from this run.",
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "ks": KS,
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "platform": platform.platform(),
            "versions": {
                "torch": torch.__version__,
                "torchmetrics": torchmetrics.__version__,
                "faiss": faiss.__version__,
            },
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "targets": {"seconds": 3.0, "peak_rss_mb": 1536},
        "results": results,
        "total_seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
