"""Name → component registries, one per group, with config-node building (DESIGN §3, §4).

Register with an explicit name::

    @register("loss", "quadruplet")
    class QuadrupletLoss(LossTerm): ...

and build from a config node (a mapping with ``name`` and the constructor's params)::

    loss = build("loss", {"name": "quadruplet", "margin_id": 0.2})

Unknown names and unknown params are errors that list the valid choices and the closest match;
params are never silently dropped. Third-party packages add components through the entry-point
group ``clothret.plugins``: each entry point names a module that is imported on first lookup and
registers its components as a side effect.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import fnmatch
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any

from clothret.errors import ConfigError, UnknownNameError

ENTRY_POINT_GROUP = "clothret.plugins"

# Each group's package imports its files, which register the group's components.
GROUP_MODULES: dict[str, str] = {
    "backbone": "clothret.backbones",
    "head": "clothret.heads",
    "loss": "clothret.losses",
    "miner": "clothret.miners",
    "module": "clothret.lightning_modules",
    "datamodule": "clothret.datamodules",
    "sampler": "clothret.datamodules.samplers",
    "callback": "clothret.callbacks",
    "logger": "clothret.loggers",
    "index": "clothret.retrieval.index",
}
GROUPS: tuple[str, ...] = tuple(GROUP_MODULES)

# Dotted config path of the node being built, so nested builds can name their own path in errors.
_BUILD_PATH: contextvars.ContextVar[str] = contextvars.ContextVar("clothret_build_path", default="")
_plugins_loaded = False


def closest(name: str, choices: list[str] | tuple[str, ...], n: int = 3) -> list[str]:
    """The up-to-``n`` choices closest to ``name`` (difflib ratio), best first."""
    return difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """A ' Did you mean ...?' suffix for an error message, or '' when nothing is close."""
    matches = closest(name, choices)
    return f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def load_plugins() -> None:
    """Import every module named by a ``clothret.plugins`` entry point (once per process)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        importlib.import_module(entry_point.value.split(":")[0])


class Registry:
    """Components of one group by name.

    Args:
        group: the group name, also the config directory ``configs/<group>/``.
    """

    def __init__(self, group: str) -> None:
        self.group = group
        self._entries: dict[str, Callable[..., Any]] = {}
        self._fallback: Callable[[str], Callable[..., Any] | None] | None = None
        self._fallback_names: Callable[[], list[str]] | None = None

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering a class or factory function under ``name``."""

        def decorator(obj: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(
                    f"{self.group} {name!r} is already registered (by "
                    f"{_qualname(self._entries[name])}); choose another name."
                )
            self._entries[name] = obj
            return obj

        return decorator

    def set_fallback(
        self,
        resolve: Callable[[str], Callable[..., Any] | None],
        names: Callable[[], list[str]],
    ) -> None:
        """Resolve names that are not registered (the backbone group falls back to timm)."""
        self._fallback, self._fallback_names = resolve, names

    def _ensure_loaded(self) -> None:
        importlib.import_module(GROUP_MODULES[self.group])

    def names(self, pattern: str = "*", include_fallback: bool = False) -> list[str]:
        """Registered names matching the fnmatch ``pattern``, sorted."""
        self._ensure_loaded()
        load_plugins()
        names = set(self._entries)
        if include_fallback and self._fallback_names is not None:
            names.update(self._fallback_names())
        return sorted(n for n in names if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
        except UnknownNameError:
            return False
        return True

    def get(self, name: str) -> Callable[..., Any]:
        """The class or factory registered as ``name``; an UnknownNameError lists the choices."""
        self._ensure_loaded()
        if name not in self._entries:
            load_plugins()
        if name in self._entries:
            return self._entries[name]
        if self._fallback is not None:
            resolved = self._fallback(name)
            if resolved is not None:
                return resolved
        valid = sorted(self._entries)
        candidates = valid + (self._fallback_names() if self._fallback_names else [])
        raise UnknownNameError(
            f"Unknown {self.group} {name!r}.{did_you_mean(name, candidates)} "
            f"Registered {self.group} names: {', '.join(valid) or '(none)'}"
            + (" (and every timm model name)" if self.group == "backbone" else "")
            + "."
        )

    def build(self, node: Mapping[str, Any] | str, at: str | None = None, **runtime: Any) -> Any:
        """Build the component described by ``node``.

        Args:
            node: ``{"name": ..., **params}`` (dict or DictConfig), or just a name.
            at: the node's config path (``"loss.miner"``) or, inside another build, its key
                relative to the parent node (``"miner"``); used in error messages.
            **runtime: values only known at run time (e.g. ``num_categories``); each is passed
                when the constructor accepts it and the node does not set it.
        """
        params = _to_dict(node)
        path = _join_path(at)
        if "name" not in params:
            raise ConfigError(
                f"Config node {path or self.group!r} has no 'name'; set it to one of: "
                f"{', '.join(self.names())}."
            )
        name = str(params.pop("name"))
        target = self.get(name)
        accepted, takes_any = accepted_params(target)
        unknown = [k for k in params if k not in accepted and not takes_any]
        if unknown:
            key = unknown[0]
            where = f"{path}.{key}" if path else key
            raise ConfigError(
                f"Unknown parameter {where!r} for {self.group} {name!r}."
                f"{did_you_mean(key, accepted)} Accepted: {', '.join(accepted) or '(none)'}."
            )
        for key, value in runtime.items():
            if (key in accepted or takes_any) and params.get(key) is None:
                params[key] = value
        token = _BUILD_PATH.set(path or self.group)
        try:
            return target(**params)
        except TypeError as err:
            raise ConfigError(f"Cannot build {self.group} {name!r} at {path!r}: {err}") from err
        finally:
            _BUILD_PATH.reset(token)


def param_defaults(target: Callable[..., Any]) -> dict[str, Any]:
    """Keyword params of ``target`` with defaults (``inspect.Parameter.empty`` where none).

    A class whose ``__init__`` forwards ``**kwargs`` to its base also accepts the base's params,
    so the MRO is followed until an ``__init__`` without ``**kwargs``.
    """
    params: dict[str, Any] = {}
    chain = (
        [c for c in target.__mro__ if "__init__" in vars(c) and not _is_framework_class(c)]
        if inspect.isclass(target)
        else []
    )
    if inspect.isclass(target) and not chain:
        return params  # no __init__ of its own: takes no params
    functions = [c.__init__ for c in chain] if chain else [target]
    for function in functions:
        forwards = False
        for p in inspect.signature(function).parameters.values():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                forwards = True
            elif p.name != "self" and p.kind in _KEYWORD_KINDS:
                params.setdefault(p.name, p.default)
        if not forwards:
            return params
    params["**"] = inspect.Parameter.empty
    return params


def accepted_params(target: Callable[..., Any]) -> tuple[list[str], bool]:
    """Names a class/factory accepts as keyword params, and whether it takes any ``**kwargs``."""
    params = param_defaults(target)
    takes_any = "**" in params
    params.pop("**", None)
    return list(params), takes_any


def _is_framework_class(cls: type) -> bool:
    """Base classes whose ``**kwargs`` are not config params (object, nn.Module, Lightning)."""
    return cls.__module__.split(".")[0] in ("builtins", "torch", "lightning", "pytorch_lightning")


_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _join_path(at: str | None) -> str:
    """``at`` is relative to the node being built, if any, else absolute."""
    parent = _BUILD_PATH.get()
    if at is None:
        return parent
    return f"{parent}.{at}" if parent else at


def _to_dict(node: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(node, str):
        return {"name": node}
    try:  # DictConfig → plain containers, interpolations resolved
        from omegaconf import DictConfig, OmegaConf

        if isinstance(node, DictConfig):
            return dict(OmegaConf.to_container(node, resolve=True))  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    if not isinstance(node, Mapping):
        raise ConfigError(f"A component node must be a mapping with 'name', got {node!r}.")
    return dict(node)


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


REGISTRIES: dict[str, Registry] = {group: Registry(group) for group in GROUPS}


def registry(group: str) -> Registry:
    """The registry of ``group``; an unknown group lists the groups."""
    if group not in REGISTRIES:
        raise UnknownNameError(
            f"Unknown component group {group!r}.{did_you_mean(group, GROUPS)} "
            f"Groups: {', '.join(GROUPS)}."
        )
    return REGISTRIES[group]


def register(group: str, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a class or factory as ``name`` in ``group``."""
    return registry(group).register(name)


def build(group: str, node: Mapping[str, Any] | str, at: str | None = None, **runtime: Any) -> Any:
    """Build a component of ``group`` from its config node; see :meth:`Registry.build`."""
    return registry(group).build(node, at=at, **runtime)


def get(group: str, name: str) -> Callable[..., Any]:
    """The class or factory registered as ``name`` in ``group``."""
    return registry(group).get(name)


def available(group: str, pattern: str = "*") -> list[str]:
    """Registered names of ``group`` matching the fnmatch ``pattern`` (like timm.list_models)."""
    return registry(group).names(pattern)


@contextlib.contextmanager
def build_path(path: str) -> Iterator[None]:
    """Set the config path that nested ``build`` calls report in their errors."""
    token = _BUILD_PATH.set(path)
    try:
        yield
    finally:
        _BUILD_PATH.reset(token)
