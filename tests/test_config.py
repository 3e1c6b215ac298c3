"""Config composition, swaps, overrides, strict key checks and the saved-config round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from clothret import config
from clothret.errors import ConfigError, UnknownNameError


def test_compose_smoke_has_every_section() -> None:
    cfg = config.compose("smoke")
    assert cfg.experiment == "smoke"
    assert "defaults" not in cfg
    for key in ("data", "backbone", "module", "loss", "trainer", "logger", "callbacks"):
        assert cfg[key] is not None, key
    assert cfg.loss.name == "triplet"
    assert cfg.backbone.img_size == 64  # the experiment body overrides the group file
    assert set(cfg.callbacks) == {"retrieval_metrics", "checkpoint", "preemption"}


def test_experiment_given_as_override() -> None:
    assert config.compose(None, ["experiment=smoke"]).experiment == "smoke"


def test_missing_experiment_lists_choices() -> None:
    with pytest.raises(ConfigError, match="smoke"):
        config.compose(None, [])


def test_swap_component_takes_its_own_defaults() -> None:
    cfg = config.compose("smoke", ["loss=quadruplet"])
    expected = OmegaConf.load(config.config_root() / "loss" / "quadruplet.yaml")
    assert OmegaConf.to_container(cfg.loss) == OmegaConf.to_container(expected)


def test_swap_nested_component_and_multi_slots() -> None:
    cfg = config.compose(
        "smoke",
        ["data.sampler=quadruplet", "logger=[csv,tensorboard]", "callbacks.stop=early_stopping"],
    )
    assert cfg.data.sampler.name == "quadruplet"
    assert list(cfg.logger) == ["csv", "tensorboard"]
    assert cfg.callbacks.stop.name == "early_stopping"
    assert "retrieval_metrics" in cfg.callbacks


def test_value_overrides_are_parsed_as_yaml() -> None:
    cfg = config.compose(
        "smoke", ["loss.margin=0.3", "callbacks.retrieval_metrics.ks=[1,5]", "seed=7"]
    )
    assert cfg.loss.margin == 0.3
    assert list(cfg.callbacks.retrieval_metrics.ks) == [1, 5]
    assert cfg.seed == 7


def test_param_the_yaml_does_not_list_is_accepted_if_the_component_takes_it() -> None:
    cfg = config.compose("smoke", ["loss.cross_device=true"])
    assert cfg.loss.cross_device is True


@pytest.mark.parametrize(
    ("override", "path", "suggestion"),
    [
        ("loss.margn=0.3", "loss.margn", "margin"),
        ("trainer.max_epoch=2", "trainer.max_epoch", "max_epochs"),
        ("seeds=3", "seeds", "seed"),
        ("module.heads.embedding.dimm=64", "module.heads.embedding.dimm", "dim"),
        ("data.batch_sise=8", "data.batch_sise", "batch_size"),
        ("loss.miner.margn=1", "loss.miner.margn", None),
    ],
)
def test_unknown_keys_are_errors_naming_path_and_valid_keys(
    override: str, path: str, suggestion: str | None
) -> None:
    with pytest.raises(ConfigError) as info:
        config.compose("smoke", [override])
    message = str(info.value)
    assert repr(path) in message
    assert "Valid keys:" in message
    if suggestion:
        assert f"Did you mean {suggestion!r}" in message


def test_unknown_component_name_suggests_closest() -> None:
    with pytest.raises(UnknownNameError, match="'resnet18'"):
        config.compose("smoke", ["backbone.name=resnet1"])
    with pytest.raises(UnknownNameError, match="'triplet'"):
        config.compose("smoke", ["loss=triplte"])


def test_override_without_equals_is_an_error() -> None:
    with pytest.raises(ConfigError, match="key=value"):
        config.compose("smoke", ["loss"])


def test_typo_in_an_experiment_file_is_an_error(tmp_path: Path) -> None:
    experiment = tmp_path / "mine.yaml"
    experiment.write_text("defaults:\n  loss: triplet\nloss:\n  margine: 0.1\n")
    with pytest.raises(ConfigError, match=r"loss\.margine"):
        config.compose(str(experiment))


def test_saved_config_round_trip_reproduces_the_resolved_config(tmp_path: Path) -> None:
    cfg = config.compose("smoke", ["loss.margin=0.25", "backbone=tiny_convnet"])
    path = config.save(cfg, tmp_path / "config.yaml")
    again = config.load_saved(path)
    assert OmegaConf.to_container(again) == OmegaConf.to_container(cfg)
    changed = config.load_saved(path, ["trainer.max_epochs=1"])
    assert changed.trainer.max_epochs == 1 and changed.loss.margin == 0.25


def test_configs_ship_inside_the_package_data_mapping() -> None:
    root = config.config_root()
    assert (root / "experiment" / "smoke.yaml").is_file()
    assert (root / "defaults.yaml").is_file()


def test_experiment_body_naming_another_component_replaces_the_node(tmp_path: Path) -> None:
    experiment = tmp_path / "mine.yaml"
    experiment.write_text(
        "defaults:\n  data: synthetic\n  loss: triplet\n"
        "data:\n  sampler: {name: random}\nloss:\n  margin: 0.5\n"
    )
    cfg = config.compose(str(experiment))
    assert OmegaConf.to_container(cfg.data.sampler) == {"name": "random"}  # pk's k is gone
    assert cfg.loss.margin == 0.5 and cfg.loss.miner.name == "batch_hard"  # same name: merged


@pytest.mark.parametrize(
    ("text", "value"), [("1e-05", 1e-5), ("2E3", 2000.0), ("-1.5e-4", -1.5e-4)]
)
def test_scientific_floats_are_floats(text: str, value: float) -> None:
    assert config.parse_value(text) == value
    assert config.compose("smoke", [f"module.optimizer.lr={text}"]).module.optimizer.lr == value
