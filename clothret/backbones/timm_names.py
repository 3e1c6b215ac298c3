"""Every timm model name as a backbone name: registry fallback and typo suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import timm
from timm.models import is_model, parse_model_name, split_model_name_tag

from clothret.backbones.timm_backbone import timm_factory
from clothret.errors import UnknownNameError
from clothret.registry import REGISTRIES


def timm_names() -> list[str]:
    """Every model name timm knows (``timm.list_models()``)."""
    return timm.list_models()


def resolve(name: str) -> Callable[..., Any]:
    """The backbone factory for a timm model name; an UnknownNameError suggests close names.

    Accepts architecture names (``resnet50``), weight tags (``resnet50.a1_in1k``) and
    ``hf-hub:`` / ``local-dir:`` prefixed names, as ``timm.create_model`` does.
    """
    try:
        source, model_id = parse_model_name(name)
    except ValueError as err:
        raise UnknownNameError(f"Unknown backbone {name!r}: {err}") from err
    if source is not None or is_model(split_model_name_tag(model_id)[0]):
        return timm_factory(name)
    registered = REGISTRIES["backbone"].names()
    matches = suggest(name, registered, timm_names())
    hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
    raise UnknownNameError(
        f"Unknown backbone {name!r}.{hint} Registered backbone names: {', '.join(registered)}; "
        "every timm model name works too (timm.list_models())."
    )


def suggest(name: str, preferred: Sequence[str], others: Sequence[str], n: int = 3) -> list[str]:
    """The up-to-``n`` names closest to ``name``, best first.

    difflib's ratio alone is unstable over timm's 1,300+ names (``resnet1`` is as close to
    ``resnet19`` as to ``resnet18``), so names with a shipped config (``preferred``) and names
    that extend what was typed rank first among the close ones; ties go to the shorter name.
    """
    query = name.lower()
    preferred_set = set(preferred)
    scored = []
    for candidate in dict.fromkeys([*preferred, *others]):
        lowered = candidate.lower()
        ratio = difflib.SequenceMatcher(None, query, lowered).ratio()
        is_prefix = lowered.startswith(query)
        if ratio < 0.6 and not is_prefix:
            continue
        score = ratio + 0.1 * (candidate in preferred_set) + 0.05 * is_prefix
        scored.append((-score, len(candidate), candidate))
    return [candidate for _, _, candidate in sorted(scored)[:n]]
