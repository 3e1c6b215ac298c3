"""What loading a checkpoint found, and the error message that says what to change."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_SHOWN = 5  # keys listed per kind in messages


@dataclass
class LoadReport:
    """What a checkpoint load did: tensors loaded, and what did not fit (strict=False only)."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the model, not in the file
    unexpected: list[str] = field(default_factory=list)  # in the file, not in the model
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # the file's classifier, not in the model
    prefix: str = ""  # the part of the file taken


def _listing(what: str, items: list[str]) -> str:
    more = f", ... (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return f"\n  {len(items)} {what}: {', '.join(items[:_SHOWN])}{more}"


def _common_prefix(keys: list[str], known: set[str]) -> str | None:
    """The prefix most often found before a known key inside ``keys`` (``enc.conv1.weight``)."""
    found = Counter(
        key[: i + 1]
        for key in keys
        for i, char in enumerate(key)
        if char == "." and key[i + 1 :] in known
    )
    return found.most_common(1)[0][0] if found else None


def describe(
    report: LoadReport, path: str, model_name: str, model_keys: set[str], strict: bool
) -> str:
    """The error (non-strict: warning) text: what did not fit, first few keys, what to change."""
    model = f"timm model {model_name!r}" if model_name else "the model"
    part = f" (keys under {report.prefix!r})" if report.prefix else ""
    head = "does not fit" if strict or not report.loaded else "partly fits"
    counted = [k for k in model_keys if not k.endswith(".num_batches_tracked")]
    matched = sum(not k.endswith(".num_batches_tracked") for k in report.loaded)
    text = f"backbone.checkpoint {path!r}{part} {head} {model}:"
    text += f"\n  {matched} of {len(counted)} model tensors match by name and shape"
    if report.missing:
        text += _listing("missing keys (in the model, not in the file)", report.missing)
    if report.unexpected:
        text += _listing("unexpected keys (in the file, not in the model)", report.unexpected)
    if report.mismatched:
        shapes = [f"{k} file {list(a)} vs model {list(b)}" for k, a, b in report.mismatched]
        text += _listing("shape mismatches", shapes)
    if not report.loaded:
        text += "\n  Nothing would be loaded."
    hints = []
    extra = _common_prefix(report.unexpected, model_keys)
    if extra:
        hints.append(
            f"the file's keys carry the prefix {extra!r}: set backbone.checkpoint_prefix={extra!r}"
            f" (takes those keys only) or backbone.checkpoint_key_map={{{extra!r}: ''}}"
        )
    lacking = _common_prefix(report.missing, set(report.unexpected))
    if lacking:
        hints.append(
            f"the model's keys have the prefix {lacking!r}: set "
            f"backbone.checkpoint_key_map={{'': {lacking!r}}}"
        )
    if not hints:
        hints.append("rename keys with backbone.checkpoint_key_map={'old.prefix.': 'new.prefix.'}")
    if report.missing or report.mismatched:
        hints.append(
            "if the file holds another architecture or variant (e.g. resnet18 vs resnet34), set "
            "backbone.name to the file's (shape mismatches also come from another img_size of "
            "position embeddings)"
        )
    if strict and report.loaded:
        hints.append(
            "set backbone.checkpoint_strict=false to load the matching tensors and keep the "
            "rest as initialised"
        )
    return text + "\n  To fix: " + "; or ".join(hints) + "."
