"""Compose and validate experiment configs (DESIGN §4), OmegaConf only.

An experiment file ``configs/experiment/<name>.yaml`` names one file per group in ``defaults``
and overrides values below it. The command line then adds

* ``group=name`` — swap the component in that slot for another registered one, with that one's
  defaults (``loss=quadruplet``, ``backbone=resnet50``, ``data.sampler=quadruplet``,
  ``logger=[csv,wandb]``);
* ``a.b.c=value`` — change a value (``loss.margin=0.3``, ``trainer.max_epochs=2``).

Every key is checked: a key a component does not accept, a Trainer argument that does not exist
or an unknown top-level key is a :class:`~clothret.errors.ConfigError` naming the path and the
valid keys, never silently ignored.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from clothret import registry
from clothret.errors import ConfigError

# Single-component slots: config path -> registry group (also the configs/ sub-directory).
SLOTS: dict[str, str] = {
    "backbone": "backbone",
    "module": "module",
    "loss": "loss",
    "data": "datamodule",
    "index": "index",
    "loss.miner": "miner",
    "data.sampler": "sampler",
    "module.heads.*": "head",
    "module.aux_losses.*": "loss",
    "module.aux_losses.*.miner": "miner",
}
# Sections holding several components, keyed by a label: path -> group.
MULTI_SLOTS: dict[str, str] = {"logger": "logger", "callbacks": "callback"}
# Non-component sections composed from configs/<dir>/<name>.yaml.
PLAIN_SECTIONS: dict[str, str] = {"trainer": "trainer"}
SCIENTIFIC_FLOAT = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+")
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "experiment",
    "description",
    "seed",
    "run_dir",
    "runs_root",
    "ckpt_path",
    "tags",
    *[s for s in SLOTS if "." not in s],
    *MULTI_SLOTS,
    *PLAIN_SECTIONS,
)


def config_root() -> Path:
    """The configs directory: packaged with the wheel, or the checkout's ``configs/``."""
    packaged = Path(__file__).resolve().parent / "configs"
    if (packaged / "experiment").is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "configs"
    if (checkout / "experiment").is_dir():
        return checkout
    raise ConfigError(
        f"No configs directory found at {packaged} or {checkout}; reinstall clothret."
    )


def available_files(directory: str) -> list[str]:
    """Names of the YAML files in ``configs/<directory>/`` (without suffix), sorted."""
    folder = config_root() / directory
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_file(directory: str, name: str) -> DictConfig:
    """Load ``configs/<directory>/<name>.yaml``; an unknown name lists the available files."""
    path = config_root() / directory / f"{name}.yaml"
    if not path.is_file():
        choices = available_files(directory)
        raise ConfigError(
            f"No config {directory}/{name}.yaml.{registry.did_you_mean(name, choices)} "
            f"Available: {', '.join(choices) or '(none)'}."
        )
    loaded = OmegaConf.load(path)
    if not isinstance(loaded, DictConfig):
        raise ConfigError(f"{path} must hold a mapping, not a {type(loaded).__name__}.")
    return loaded


def slot_group(path: str) -> str | None:
    """The registry group of the component node at ``path``, or None."""
    for pattern, group in SLOTS.items():
        if fnmatch.fnmatchcase(path, pattern) and path.count(".") == pattern.count("."):
            return group
    parent, _, _ = path.rpartition(".")
    return MULTI_SLOTS.get(parent)


def component_node(group: str, name: str) -> DictConfig:
    """The default node of ``name`` in ``group``: its YAML file, or just ``{name: ...}``.

    A name without a YAML file must still be registered (or resolvable, e.g. a timm model name).
    """
    if name in available_files(group):
        node = load_file(group, name)
        if node.get("name") is None:
            node.name = name
        return node
    registry.get(group, name)  # raises UnknownNameError with suggestions
    return OmegaConf.create({"name": name})


def _multi_nodes(group: str, names: Iterable[str]) -> DictConfig:
    return OmegaConf.create({name: component_node(group, name) for name in names})


def compose(experiment: str | None = None, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``configs/experiment/<experiment>.yaml`` (or a path) with command-line overrides.

    ``experiment`` may also be given as an override ``experiment=<name>``.
    """
    overrides = list(overrides)
    for item in list(overrides):
        key, _, value = item.partition("=")
        if key == "experiment":
            experiment = value
            overrides.remove(item)
    if not experiment:
        raise ConfigError(
            "No experiment given: pass experiment=<name> (one of "
            f"{', '.join(available_files('experiment'))}) or --config <saved config.yaml>."
        )
    if experiment.endswith((".yaml", ".yml")):
        body = OmegaConf.load(experiment)
        experiment_name = Path(experiment).stem
    else:
        body = load_file("experiment", experiment)
        experiment_name = experiment
    defaults = body.pop("defaults", OmegaConf.create({}))
    cfg = load_file("", "defaults") if (config_root() / "defaults.yaml").is_file() else None
    cfg = cfg if cfg is not None else OmegaConf.create({})
    for key, choice in defaults.items():
        cfg[key] = _default_section(str(key), choice)
    cfg = merge_body(cfg, body)
    cfg.experiment = experiment_name
    return apply_overrides(cfg, overrides)


def merge_body(cfg: DictConfig, body: DictConfig) -> DictConfig:
    """Merge an experiment's body into ``cfg``; a node naming another component replaces the
    node in that slot (with the new component's defaults) instead of mixing their params."""
    cfg = cfg.copy()
    for path in sorted(_component_paths(body), key=lambda p: p.count(".")):
        new = OmegaConf.select(body, path)
        current = OmegaConf.select(cfg, path)
        name = new.get("name") if isinstance(new, DictConfig) else None
        replaced = not isinstance(current, DictConfig) or current.get("name") != name
        if name is not None and replaced:
            group = slot_group(path)
            assert group is not None
            OmegaConf.update(cfg, path, component_node(group, str(name)), merge=False)
    return OmegaConf.merge(cfg, body)  # type: ignore[return-value]


def _default_section(key: str, choice: Any) -> DictConfig:
    if key in PLAIN_SECTIONS:
        return load_file(PLAIN_SECTIONS[key], str(choice))
    if key in MULTI_SLOTS:
        names = [choice] if isinstance(choice, str) else list(choice or [])
        return _multi_nodes(MULTI_SLOTS[key], names)
    group = slot_group(key)
    if group is None:
        raise ConfigError(
            f"Unknown group {key!r} in the experiment's defaults."
            f"{registry.did_you_mean(key, TOP_LEVEL_KEYS)} "
            f"Groups: {', '.join([*SLOTS, *MULTI_SLOTS, *PLAIN_SECTIONS])}."
        )
    return component_node(group, str(choice))


def load_saved(path: str | Path, overrides: Sequence[str] = ()) -> DictConfig:
    """Load a resolved config saved with a run, then apply ``overrides``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"{path} must hold a mapping.")
    return apply_overrides(cfg, overrides)


def parse_value(text: str) -> Any:
    """Parse an override value as YAML (``0.3``, ``[1,5]``, ``null``, ``true``, ``name``)."""
    if SCIENTIFIC_FLOAT.fullmatch(text.strip()):  # YAML 1.1 reads 1e-05 as a string
        return float(text)
    try:
        return yaml.safe_load(text) if text != "" else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"Cannot parse override value {text!r}: {err}") from err


def apply_overrides(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """Apply ``group=name`` swaps and ``a.b.c=value`` changes, then validate the result."""
    cfg = cfg.copy()
    for item in overrides:
        if "=" not in item:
            raise ConfigError(
                f"Override {item!r} is not of the form key=value (e.g. loss=quadruplet or "
                "trainer.max_epochs=2)."
            )
        key, _, text = item.partition("=")
        key = key.strip().lstrip("+")
        value = parse_value(text)
        _apply_one(cfg, key, value)
    validate(cfg)
    return cfg


def _apply_one(cfg: DictConfig, key: str, value: Any) -> None:
    group = slot_group(key)
    if key in MULTI_SLOTS and (isinstance(value, str | list) or value is None):
        names = [value] if isinstance(value, str) else list(value or [])
        OmegaConf.update(cfg, key, _multi_nodes(MULTI_SLOTS[key], names), merge=False)
        return
    if key in PLAIN_SECTIONS and isinstance(value, str):
        OmegaConf.update(cfg, key, load_file(PLAIN_SECTIONS[key], value), merge=False)
        return
    if group is not None and (isinstance(value, str) or value is None):
        new = component_node(group, value) if value is not None else None
        OmegaConf.update(cfg, key, new, merge=False)
        return
    _check_key_path(cfg, key)
    OmegaConf.update(cfg, key, value, merge=False)


def _check_key_path(cfg: DictConfig, key: str) -> None:
    """Reject a ``a.b.c`` override whose key is not a known key at that place."""
    parts = key.split(".")
    if parts[0] not in TOP_LEVEL_KEYS:
        _raise_unknown(key, parts[0], TOP_LEVEL_KEYS)
    inside_param = False  # below a component's param, its own build checks the keys
    for depth in range(1, len(parts)):
        parent_path, leaf = ".".join(parts[:depth]), parts[depth]
        parent = OmegaConf.select(cfg, parent_path)
        group = slot_group(parent_path)
        if group is not None and isinstance(parent, DictConfig):
            accepted = component_params(group, parent.get("name"))
            if accepted is not None and leaf not in accepted and leaf != "name":
                _raise_unknown(key, leaf, accepted, f"{group} {parent.get('name')!r}")
            inside_param = True
        elif parent_path in PLAIN_SECTIONS:
            if leaf not in trainer_params():
                _raise_unknown(key, leaf, trainer_params(), parent_path)
            return
        elif inside_param or not isinstance(parent, DictConfig):
            continue
        elif leaf not in parent:
            _raise_unknown(key, leaf, [str(k) for k in parent], parent_path)


def _raise_unknown(key: str, leaf: str, accepted: Iterable[str], owner: str = "config") -> None:
    accepted = sorted(accepted)
    raise ConfigError(
        f"Unknown config key {key!r}: {owner} has no {leaf!r}."
        f"{registry.did_you_mean(leaf, accepted)}"
        f" Valid keys: {', '.join(accepted)}."
    )


def component_params(group: str, name: Any) -> list[str] | None:
    """Params accepted by component ``name`` of ``group``, or None when it takes any."""
    if name is None:
        return None
    params, takes_any = registry.accepted_params(registry.get(group, str(name)))
    return None if takes_any else params


def trainer_params() -> list[str]:
    """Keyword arguments of ``pytorch_lightning.Trainer`` plus clothret's trainer options."""
    from pytorch_lightning import Trainer

    names = [p for p in inspect.signature(Trainer.__init__).parameters if p != "self"]
    return sorted({*names, *TRAINER_EXTRAS})


# Trainer-section keys that clothret interprets itself instead of passing to Trainer.
TRAINER_EXTRAS: dict[str, str] = {
    "strategy_options": "keyword arguments for the strategy class (e.g. find_unused_parameters)",
}


def validate(cfg: DictConfig) -> None:
    """Check every key of a composed config; raise ConfigError at the first unknown one."""
    for key in cfg:
        if key not in TOP_LEVEL_KEYS:
            _raise_unknown(str(key), str(key), TOP_LEVEL_KEYS)
    for path in _component_paths(cfg):
        node = OmegaConf.select(cfg, path)
        group = slot_group(path)
        if node is None or group is None:
            continue
        if not isinstance(node, DictConfig) or "name" not in node:
            raise ConfigError(f"{path} must be a mapping with a 'name' (a registered {group}).")
        accepted = component_params(group, node.name)
        if accepted is not None:
            for key in node:
                if key != "name" and key not in accepted:
                    _raise_unknown(f"{path}.{key}", str(key), accepted, f"{group} {node.name!r}")
    trainer = cfg.get("trainer")
    if trainer is not None:
        accepted = trainer_params()
        for key in trainer:
            if key not in accepted:
                _raise_unknown(f"trainer.{key}", str(key), accepted, "trainer")


def _component_paths(cfg: DictConfig) -> list[str]:
    """Dotted paths of every component node present in ``cfg`` (slots and multi-slot entries)."""
    paths: list[str] = []
    for pattern in SLOTS:
        paths.extend(_expand(cfg, pattern))
    for section in MULTI_SLOTS:
        value = cfg.get(section)
        if isinstance(value, DictConfig):
            paths.extend(f"{section}.{label}" for label in value)
    return paths


def _expand(cfg: DictConfig, pattern: str) -> list[str]:
    parts = pattern.split(".")
    found = [""]
    for part in parts:
        nxt = []
        for prefix in found:
            node = OmegaConf.select(cfg, prefix) if prefix else cfg
            if not isinstance(node, DictConfig):
                continue
            keys = [str(k) for k in node] if part == "*" else ([part] if part in node else [])
            nxt.extend(f"{prefix}.{k}" if prefix else k for k in keys)
        found = nxt
    return found


def to_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML text."""
    return OmegaConf.to_yaml(cfg, resolve=True)


def save(cfg: DictConfig, path: str | Path) -> Path:
    """Write the resolved config to ``path`` atomically."""
    from clothret.utils.io import atomic_write_text

    return atomic_write_text(path, to_yaml(cfg))
