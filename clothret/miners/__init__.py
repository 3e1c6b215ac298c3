"""Miners (``miner`` group): pick triplets, quadruplets or pairs inside a batch."""

from clothret.miners.all import AllMiner
from clothret.miners.base import Miner
from clothret.miners.batch_hard import BatchHardMiner
from clothret.miners.random import RandomMiner
from clothret.miners.semi_hard import SemiHardMiner

__all__ = ["AllMiner", "BatchHardMiner", "Miner", "RandomMiner", "SemiHardMiner"]
