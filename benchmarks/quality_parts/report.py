"""Targets of the quality benchmark and the README table, both computed from the results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FROZEN = "ImageNet Lite0, frozen"
P10 = "precision@10"
GAIN_TARGETS = {"shop": 0.12, "cross": 0.18}
CODE_KEEP_TARGET = 0.95
START, END = "<!-- quality-table:start -->", "<!-- quality-table:end -->"


def targets(rows: list[dict[str, Any]], own_tasks: dict[str, str]) -> dict[str, Any]:
    """The quality targets, checked against the frozen-feature row of the same run.

    ``own_tasks`` maps each recipe to the task its paper evaluates (``shop`` or ``cross``): every
    trained row must beat the frozen features there (``beats_frozen``); ``beats_frozen_both``
    records the stricter check on both tasks.
    """
    frozen = next(r for r in rows if r["name"] == FROZEN)
    trained = [r for r in rows if r["recipe"] is not None]
    out: dict[str, Any] = {
        "beats_frozen": {}, "beats_frozen_both": {}, "best_gain": {}, "code_keeps": {}
    }  # fmt: skip
    for r in trained:
        task = own_tasks[r["recipe"]]
        out["beats_frozen"][r["name"]] = {"task": task, "met": r[task][P10] > frozen[task][P10]}
        out["beats_frozen_both"][r["name"]] = all(r[t][P10] > frozen[t][P10] for t in GAIN_TARGETS)
    for task, needed in GAIN_TARGETS.items():
        best = max(trained, key=lambda r, t=task: r[t][P10], default=None)
        gain = None if best is None else round(best[task][P10] - frozen[task][P10], 4)
        out["best_gain"][task] = {
            "row": None if best is None else best["name"],
            "gain": gain,
            "needed": needed,
            "met": gain is not None and gain >= needed,
        }
    for r in trained:
        if not r["name"].endswith("Hamming") or "128 bits" not in r["name"]:
            continue
        float_row = next(
            f for f in trained if f["recipe"] == r["recipe"] and f["name"].endswith("float")
        )
        keeps = {t: round(r[t][P10] / max(float_row[t][P10], 1e-12), 4) for t in GAIN_TARGETS}
        out["code_keeps"][r["name"]] = {**keeps, "met": min(keeps.values()) >= CODE_KEEP_TARGET}
    return out


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(results: dict[str, Any]) -> str:
    """Markdown: setup line, one row per representation, then the targets."""
    setup, rows = results["setup"], results["rows"]
    budget = setup["budget"]
    ceiling = setup["ceiling_precision@10"]
    lines = [
        f"Seed {setup['seed']}, {setup['img_size']} px, {setup['threads']} CPU threads; "
        f"trained rows: {budget['epochs']} epochs of batch {budget['batch_size']} "
        f"at head lr {budget['lr']:g}, backbone {budget['backbone_lr_mult']:g}× that; "
        f"{setup['frozen']} frozen (its first five stages cached once, in "
        f"{setup['cache_minutes']} min); whole table {setup['total_minutes']} min"
        + (" + the cache, reused from an earlier run" if setup["cache_reused"] else "")
        + ". Images: "
        + ", ".join(f"{k} {v}" for k, v in setup["images"].items())
        + ".",
        "",
        "| representation | train min | shop p@10 | shop map@10 | shop hit@1 "
        "| consumer→shop p@10 | consumer→shop map@10 | consumer→shop hit@1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| *ceiling of p@10* | | *{ceiling['shop']:.3f}* | | | *{ceiling['cross']:.3f}* | | |",
    ]
    for r in rows:
        s, c = r["shop"], r["cross"]
        minutes = "" if r["train_minutes"] is None else f"{r['train_minutes']:.1f}"
        lines.append(
            f"| {r['name']} | {minutes} | {_cell(s[P10])} | {_cell(s['map@10'])} "
            f"| {_cell(s['hit@1'])} | {_cell(c[P10])} | {_cell(c['map@10'])} "
            f"| {_cell(c['hit@1'])} |"
        )
    with_attributes = [r for r in rows if "attributes" in r]
    if with_attributes:
        tasks = list(with_attributes[0]["attributes"])
        lines += ["", "Shop attribute retrieval, map@10 per task:", ""]
        lines.append("| representation | " + " | ".join(tasks) + " |")
        lines.append("|---|" + "---:|" * len(tasks))
        for r in with_attributes:
            cells = " | ".join(_cell(r["attributes"][t]) for t in tasks)
            lines.append(f"| {r['name']} | {cells} |")
    goals = results["targets"]
    lines += ["", "Targets (from this run):", ""]
    for task, g in goals["best_gain"].items():
        name = "shop" if task == "shop" else "consumer→shop"
        mark = "met" if g["met"] else "**not met**"
        lines.append(
            f"- best gain over frozen features, {name} p@10: {_cell(g['gain'])} "
            f"({g['row']}; target ≥ +{g['needed']:.2f}): {mark}"
        )
    losers = [n for n, g in goals["beats_frozen"].items() if not g["met"]]
    lines.append(
        "- every trained row beats the frozen features on its method's own task (shop for "
        "latent_hash and multiweight, consumer→shop for the others): "
        + ("met" if not losers else "**not met** by " + ", ".join(losers))
    )
    both = [n for n, ok in goals["beats_frozen_both"].items() if not ok]
    lines.append(
        "- on both tasks: " + ("every trained row" if not both else "all but " + ", ".join(both))
    )
    for name, keep in goals["code_keeps"].items():
        mark = "met" if keep["met"] else "**not met**"
        lines.append(
            f"- {name} keeps {keep['shop']:.0%} (shop) and {keep['cross']:.0%} (consumer→shop) "
            f"of its float p@10 (target ≥ 95%): {mark}"
        )
    return "\n".join(lines)


def update_readme(path: Path, results: dict[str, Any]) -> None:
    """Replace the text between the quality-table markers of ``path`` with :func:`table`."""
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} ... {END} block to rewrite.")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{table(results)}\n{END}{tail}")
