"""The `clothret` command: user errors exit 2 with one line, listing, config printing."""

from __future__ import annotations

import pytest

from clothret.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_misspelled_param_exits_2_naming_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "fit", "experiment=smoke", "loss.margn=0.3")
    assert code == 2
    assert err.count("\n") == 1  # one line, no traceback
    assert "'loss.margn'" in err and "margin" in err and "Valid keys" in err


def test_misspelled_backbone_exits_2_suggesting_resnet18(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, "fit", "experiment=smoke", "backbone.name=resnet1")
    assert code == 2
    assert err.count("\n") == 1
    assert "resnet18" in err


def test_unknown_experiment_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "fit", "experiment=smok")
    assert code == 2 and "smoke" in err


def test_missing_checkpoint_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "test", "experiment=smoke", "ckpt_path=/nonexistent/x.ckpt")
    assert code == 2 and "/nonexistent/x.ckpt" in err


def test_print_config_prints_the_resolved_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "fit", "experiment=smoke", "loss=quadruplet", "--print-config")
    assert code == 0
    assert "experiment: smoke" in out and "name: quadruplet" in out and "margin_class" in out


def test_list_shows_names_params_and_summaries(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "list", "loss")
    assert code == 0
    for name in ("triplet", "quadruplet", "contrastive_hash", "weighted_multilabel"):
        assert f"  {name}(" in out
    assert "margin=0.2" in out


def test_stray_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["list", "loss", "extra=1"])
    assert info.value.code == 2
