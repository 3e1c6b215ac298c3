"""Build a module's heads and loss terms from nodes, and check that they fit together.

Each head reads one output (``input``, else its class's ``default_input``) and writes its class's
``output_key``; each loss term names the outputs it reads. A loss that reads an output no head
produces is a build-time error, not a KeyError in the first training step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from clothret import keys, registry
from clothret.errors import ConfigError


def _node_dict(node: Any) -> dict[str, Any]:
    if isinstance(node, str):
        return {"name": node}
    from omegaconf import DictConfig, OmegaConf

    if isinstance(node, DictConfig):
        return dict(OmegaConf.to_container(node, resolve=True))  # type: ignore[arg-type]
    return dict(node)


def build_heads(
    head_nodes: Mapping[str, Any],
    dims: dict[str, Any],
    runtime: Mapping[str, Any],
) -> tuple[nn.ModuleDict, dict[str, str]]:
    """Build heads in order; ``dims`` maps each available output key to its size.

    Returns the heads and, per head role, the output key it reads.
    """
    heads, inputs = nn.ModuleDict(), {}
    for role, node in head_nodes.items():
        if node is None:
            continue
        node = _node_dict(node)
        head_cls = registry.get("head", str(node.get("name")))
        input_key = node.get("input") or head_cls.default_input
        if input_key not in dims:
            raise ConfigError(
                f"module.heads.{role} ({node['name']!r}) reads output {input_key!r}, which nothing "
                f"before it produces; available: {', '.join(dims)}. Set module.heads.{role}.input, "
                "reorder the heads, or (for feature_maps) set backbone.levels."
            )
        head = registry.build(
            "head", node, at=f"module.heads.{role}", in_dim=dims[input_key], **runtime
        )
        heads[role] = head
        inputs[role] = input_key
        dims[head.output_key] = head.out_dim
    return heads, inputs


def build_loss_terms(
    main: Any, aux: Mapping[str, Any] | None, runtime: Mapping[str, Any]
) -> nn.ModuleDict:
    """The module's loss terms: the top-level ``loss`` under its name, then ``aux_losses``."""
    terms = nn.ModuleDict()
    if main is not None:
        if isinstance(main, nn.Module):
            terms[type(main).__name__.lower()] = main
        else:
            node = _node_dict(main)
            terms[str(node["name"])] = registry.build("loss", node, at="loss", **runtime)
    for label, node in (aux or {}).items():
        if node is None:
            continue
        if label in terms:
            raise ConfigError(
                f"module.aux_losses.{label} has the same label as the main loss; rename it."
            )
        terms[label] = registry.build("loss", node, at=f"module.aux_losses.{label}", **runtime)
    if not terms:
        raise ConfigError("The module has no loss: set `loss` (e.g. loss=triplet).")
    return terms


def check_wiring(module_name: str, produced: set[str], terms: nn.ModuleDict, eval_key: str) -> None:
    """Raise a ConfigError if a loss reads an output no head produces, or eval has no feature."""
    for label, term in terms.items():
        missing = [k for k in getattr(term, "requires_outputs", ()) if k not in produced]
        if missing:
            raise ConfigError(
                f"Loss {label!r} reads output(s) {', '.join(missing)}, which module "
                f"{module_name!r} "
                f"does not produce (it produces {', '.join(sorted(produced))}). Add a head that "
                f"writes it under module.heads (e.g. module.heads.embedding=embedding) or choose "
                "a loss that fits this module's outputs."
            )
    if eval_key not in produced:
        raise ConfigError(
            f"module.eval_feature={eval_key!r} is not produced by module {module_name!r}; "
            f"choose one of {', '.join(sorted(produced - {keys.FEATURE_MAPS}))}."
        )
