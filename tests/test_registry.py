"""Registry: registration, lookup errors with suggestions, param validation, plugins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from clothret import registry
from clothret.errors import ConfigError, UnknownNameError
from clothret.registry import Registry


class Margin:
    """A toy component."""

    def __init__(self, margin: float = 0.2, reduction: str = "mean", scale: float | None = None):
        self.margin, self.reduction, self.scale = margin, reduction, scale


class WithBase(Margin):
    def __init__(self, extra: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.extra = extra


@pytest.fixture
def reg(monkeypatch: pytest.MonkeyPatch) -> Registry:
    reg = Registry("loss")
    monkeypatch.setattr(reg, "_ensure_loaded", lambda: None)
    reg.register("margin_loss")(Margin)
    reg.register("with_base")(WithBase)
    return reg


def test_build_passes_params(reg: Registry) -> None:
    obj = reg.build({"name": "margin_loss", "margin": 0.5})
    assert (obj.margin, obj.reduction) == (0.5, "mean")


def test_build_from_name_only(reg: Registry) -> None:
    assert reg.build("margin_loss").margin == 0.2


def test_duplicate_registration_raises(reg: Registry) -> None:
    with pytest.raises(ValueError, match="already registered"):
        reg.register("margin_loss")(Margin)


def test_unknown_name_lists_valid_names_and_closest(reg: Registry) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.build({"name": "margn_loss"})
    message = str(info.value)
    assert "Did you mean 'margin_loss'" in message
    assert "margin_loss, with_base" in message
    assert isinstance(info.value, KeyError)


def test_unknown_param_names_path_and_accepted(reg: Registry) -> None:
    with pytest.raises(ConfigError) as info:
        reg.build({"name": "margin_loss", "margn": 0.3}, at="loss")
    message = str(info.value)
    assert "'loss.margn'" in message
    assert "Did you mean 'margin'" in message
    assert "margin, reduction, scale" in message


def test_params_follow_kwargs_to_the_base_class(reg: Registry) -> None:
    obj = reg.build({"name": "with_base", "extra": 3, "margin": 0.1})
    assert (obj.extra, obj.margin) == (3, 0.1)
    with pytest.raises(ConfigError, match="'nope'"):
        reg.build({"name": "with_base", "nope": 1})


def test_runtime_values_only_where_accepted_and_unset(reg: Registry) -> None:
    obj = reg.build({"name": "margin_loss"}, scale=2.0, num_categories=5)
    assert obj.scale == 2.0
    obj = reg.build({"name": "margin_loss", "scale": 3.0}, scale=2.0)
    assert obj.scale == 3.0


def test_nested_build_reports_full_path(reg: Registry) -> None:
    def outer(inner: dict) -> object:
        return reg.build(inner, at="miner")

    outer_reg = Registry("module")
    outer_reg._ensure_loaded = lambda: None  # type: ignore[method-assign]
    outer_reg.register("outer")(outer)
    with pytest.raises(ConfigError, match=r"'loss\.miner\.bad'"):
        outer_reg.build({"name": "outer", "inner": {"name": "margin_loss", "bad": 1}}, at="loss")


def test_missing_name_is_an_error(reg: Registry) -> None:
    with pytest.raises(ConfigError, match="has no 'name'"):
        reg.build({"margin": 1.0}, at="loss")


def test_names_pattern(reg: Registry) -> None:
    assert reg.names("with*") == ["with_base"]
    assert reg.names() == ["margin_loss", "with_base"]


def test_unknown_group() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'loss'"):
        registry.available("losss")


def test_entry_point_plugin_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin distribution registers a loss through the clothret.plugins entry point."""
    (tmp_path / "clothret_test_plugin.py").write_text(
        textwrap.dedent(
            """
            from clothret.registry import register

            @register("miner", "plugin_miner_for_tests")
            class PluginMiner:
                def __init__(self, strength: int = 1):
                    self.strength = strength
            """
        )
    )
    dist_info = tmp_path / "clothret_test_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: clothret-test-plugin\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[clothret.plugins]\ntest_plugin = clothret_test_plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.delitem(sys.modules, "clothret_test_plugin", raising=False)
    miners = registry.REGISTRIES["miner"]
    try:
        obj = registry.build("miner", {"name": "plugin_miner_for_tests", "strength": 4})
        assert obj.strength == 4
        assert "plugin_miner_for_tests" in registry.available("miner")
    finally:
        miners._entries.pop("plugin_miner_for_tests", None)
