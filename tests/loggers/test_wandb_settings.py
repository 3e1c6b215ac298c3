"""W&B settings: API key detection, mode precedence and offline fallback, run id precedence."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from clothret.errors import ConfigError
from clothret.loggers import wandb_settings as ws

KEY = "x" * 40


def test_no_credentials_anywhere(wandb_isolated: Path) -> None:
    assert not ws.has_api_key()


def test_api_key_from_environment(wandb_isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    assert ws.has_api_key()


def test_api_key_from_netrc_for_the_configured_host(
    wandb_isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = wandb_isolated / ".netrc"
    netrc.write_text(f"machine api.wandb.ai\n  login user\n  password {KEY}\n")
    netrc.chmod(0o600)
    assert ws.has_api_key()
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.com")  # key is for another host
    assert not ws.has_api_key()


def test_api_key_from_settings_file(wandb_isolated: Path) -> None:
    settings = wandb_isolated / "wandb-config" / "settings"
    settings.parent.mkdir()
    settings.write_text(f"[default]\napi_key = {KEY}\n")
    assert ws.has_api_key()


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        ("offline", "disabled", "offline"),  # an explicit config value wins over the env
        (None, "disabled", "disabled"),
        (None, "dryrun", "offline"),  # wandb's legacy spelling
        (None, None, "online"),
    ],
)
def test_mode_precedence(
    config: str | None,
    env: str | None,
    expected: str,
    wandb_isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    if env:
        monkeypatch.setenv("WANDB_MODE", env)
    assert ws.resolve_mode(config) == expected


def test_wandb_disabled_variable(wandb_isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_DISABLED", "true")
    assert ws.resolve_mode(None) == "disabled"


def test_online_without_key_falls_back_with_one_warning(
    wandb_isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=ws.__name__):
        assert ws.resolve_mode("online") == "offline"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "no API key" in messages[0] and "wandb sync" in messages[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=ws.__name__):
        assert ws.resolve_mode("offline") == "offline"
    assert not caplog.records  # offline by choice: nothing to say


def test_unknown_mode_is_a_config_error(wandb_isolated: Path) -> None:
    with pytest.raises(ConfigError, match="online, offline, disabled"):
        ws.resolve_mode("cloud")


def test_run_id_precedence(
    wandb_isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ws.RUN_ID_FILE).write_text("stored1\n")
    assert ws.resolve_run_id("explicit", tmp_path, "fit") == "explicit"
    assert ws.resolve_run_id(None, tmp_path, "fit") == "stored1"
    # only a fit continues the stored run; other commands start their own
    other = ws.resolve_run_id(None, tmp_path, "test")
    assert other != "stored1" and len(other) == 8
    monkeypatch.setenv("WANDB_RUN_ID", "fromenv")  # set by sweep agents
    assert ws.resolve_run_id(None, tmp_path, "fit") == "fromenv"
    assert ws.resolve_run_id("explicit", tmp_path, "fit") == "explicit"


def test_new_run_ids_differ_and_use_wandb_alphabet() -> None:
    ids = {ws.new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(i.isalnum() and i == i.lower() for i in ids)
