"""Every sampler under a simulated world of 2: disjoint shares covering the epoch, same seed,
set_epoch reached by Lightning, the rank from torch.distributed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lightning_fabric.utilities.data import _set_sampler_epoch
from torch.utils.data import DataLoader, DistributedSampler

from clothret.datamodules.samplers.base import resolve_world
from clothret.errors import ConfigError
from clothret.registry import build

from .conftest import batches_of, labels

SIZES = [2, 3, 4, 5, 2, 2, 6, 3, 4, 2, 1, 3, 5, 2, 4, 3, 2, 2, 7, 4]
ITEMS, CATEGORIES, DOMAINS = labels(SIZES, categories=4)
RUNTIME = {
    "item_ids": ITEMS,
    "categories": CATEGORIES,
    "domains": DOMAINS,
    "num_samples": len(ITEMS),
    "batch_size": 8,
    "seed": 7,
}
NODES = [{"name": n} for n in ("pk", "quadruplet", "domain_pairs", "random", "class_balanced")]
NODES[0]["k"] = 2


def make(node: dict, **world) -> object:
    return build("sampler", {**node, **world}, **RUNTIME)


@pytest.mark.parametrize("node", NODES, ids=lambda n: n["name"])
def test_two_ranks_split_the_epoch(node: dict) -> None:
    ranks = [make(node, num_replicas=2, rank=r) for r in (0, 1)]
    for epoch in (0, 3):
        for sampler in ranks:
            sampler.set_epoch(epoch)
        mine = [batches_of(s) for s in ranks]
        assert len(mine[0]) == len(mine[1]) > 0  # equal step counts: no rank waits forever
        epoch_batches = [b.tolist() for b in ranks[0].epoch_batches()]
        assert epoch_batches == [b.tolist() for b in ranks[1].epoch_batches()]
        # the ranks take alternate batches of the one global plan
        assert mine[0] == epoch_batches[0::2] and mine[1] == epoch_batches[1::2]
        if node["name"] != "class_balanced":  # draws with replacement repeat images by design
            sets = [{i for b in m for i in b} for m in mine]
            assert not sets[0] & sets[1]
            assert sets[0] | sets[1] == {i for b in epoch_batches for i in b}


@pytest.mark.parametrize("node", NODES, ids=lambda n: n["name"])
def test_same_seed_same_batches_other_epoch_other_order(node: dict) -> None:
    a, b = make(node, num_replicas=2, rank=1), make(node, num_replicas=2, rank=1)
    assert batches_of(a) == batches_of(b)
    b.set_epoch(1)
    assert batches_of(a) != batches_of(b)


@pytest.mark.parametrize("node", NODES, ids=lambda n: n["name"])
def test_lightning_keeps_the_sampler_and_sets_its_epoch(node: dict) -> None:
    sampler = make(node)
    # Lightning leaves DistributedSampler instances in place under DDP ...
    assert isinstance(sampler, DistributedSampler)
    loader = DataLoader(list(range(len(ITEMS))), batch_size=sampler.batch_size, sampler=sampler)
    before = [b.tolist() for b in loader]
    _set_sampler_epoch(loader, 5)  # ... and calls this at every epoch start
    assert sampler.epoch == 5
    assert [b.tolist() for b in loader] == [b.tolist() for b in sampler.rank_batches(5)] != before


def test_resolve_world() -> None:
    assert resolve_world(None, None) == (1, 0)
    assert resolve_world(4, 3) == (4, 3)
    with pytest.raises(ConfigError, match="Invalid sampler rank 2 for world size 2"):
        resolve_world(2, 2)


WORKER = """
import json, sys, torch.distributed as dist
from clothret.registry import build
rank, world, store = int(sys.argv[1]), 2, sys.argv[2]
dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
runtime = json.loads(sys.argv[3])
sampler = build("sampler", {"name": "pk", "k": 2}, **runtime)
print(json.dumps({"world": sampler.num_replicas, "rank": sampler.rank, "indices": list(sampler)}))
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_rank_and_world_come_from_torch_distributed(tmp_path: Path) -> None:
    runtime = json.dumps({k: np.asarray(v).tolist() for k, v in RUNTIME.items()})
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(r), str(tmp_path / "store"), runtime],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for r in (0, 1)
    ]
    outs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    assert [(o["world"], o["rank"]) for o in outs] == [(2, 0), (2, 1)]
    reference = [make({"name": "pk", "k": 2}, num_replicas=2, rank=r) for r in (0, 1)]
    assert [o["indices"] for o in outs] == [list(s) for s in reference]
