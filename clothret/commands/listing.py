"""``clothret list``: every registered component with its parameters and one-line summary."""

from __future__ import annotations

import inspect

from clothret import registry


def _summary(target: object) -> str:
    doc = inspect.getdoc(target) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _params(target: object) -> str:
    defaults = registry.param_defaults(target)  # type: ignore[arg-type]
    defaults.pop("**", None)
    parts = []
    for name, default in defaults.items():
        parts.append(name if default is inspect.Parameter.empty else f"{name}={default!r}")
    return ", ".join(parts)


def list_components(group: str | None = None, pattern: str = "*") -> str:
    """A text listing of ``group`` (or every group): name, params, summary."""
    groups = [group] if group else list(registry.GROUPS)
    lines: list[str] = []
    for name in groups:
        reg = registry.registry(name)
        lines.append(f"[{name}]")
        for entry in reg.names(pattern):
            target = reg.get(entry)
            lines.append(f"  {entry}({_params(target)})")
            summary = _summary(target)
            if summary:
                lines.append(f"      {summary}")
        if name == "backbone":
            lines.append("  ... and every timm model name (timm.list_models())")
    return "\n".join(lines)
