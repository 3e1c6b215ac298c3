"""LossTerm key checks and MetricLossTerm's choice of anchors and partners."""

from __future__ import annotations

import pytest
import torch

from clothret import keys
from clothret.errors import ConfigError
from clothret.losses.base import LossTerm, MetricLossTerm
from clothret.miners import RandomMiner


class Needs(LossTerm):
    registered_name = "needs"
    requires_outputs = (keys.CATEGORY_LOGITS,)
    requires_batch = (keys.CATEGORY,)


def test_check_inputs_names_missing_key_its_provider_and_what_is_there():
    term = Needs(weight=0.5)
    assert term.weight == 0.5
    with pytest.raises(ConfigError) as err:
        term.check_inputs({keys.EMBEDDING: 0}, {keys.CATEGORY: 0})
    message = str(err.value)
    assert "'needs'" in message and "'category_logits'" in message
    assert "`classifier` head" in message and "['embedding']" in message
    with pytest.raises(ConfigError, match=r"batch field 'category'.*`category` column"):
        term.check_inputs({keys.CATEGORY_LOGITS: 0}, {})
    term.check_inputs({keys.CATEGORY_LOGITS: 0}, {keys.CATEGORY: 0})  # complete: no error


def test_metric_term_takes_a_built_miner_or_a_node():
    built = RandomMiner(seed=3)
    assert MetricLossTerm(miner=built).miner is built
    assert MetricLossTerm(miner={"name": "random", "seed": 4}).miner.seed == 4


def test_gather_consumer_to_shop_anchors_and_candidates():
    term = MetricLossTerm(consumer_to_shop=True)
    assert term.requires_batch == (keys.DOMAIN,)
    assert MetricLossTerm.requires_batch == ()  # the class attribute is left alone
    x = torch.randn(5, 2)
    batch = {
        keys.ITEM_ID: torch.tensor([3, 3, 4, 4, 5]),
        keys.DOMAIN: torch.tensor([1, 0, 0, 1, 0]),
    }
    emb, (items,), anchors, candidates = term.gather(x, batch, keys.ITEM_ID)
    assert emb is x and items.tolist() == [3, 3, 4, 4, 5]
    assert anchors.tolist() == [0, 3]
    assert candidates.tolist() == [False, True, True, False, True]
