"""Print the path of the first query image of a sample-data folder (used by ``make demo``).

python -m clothret.sample_data.first_query DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def first_query(root: str | Path) -> Path:
    """The first ``query`` row's image of ``root/manifest.csv``, as a path."""
    root = Path(root)
    manifest = pd.read_csv(root / "manifest.csv", keep_default_na=False)
    return root / manifest.loc[manifest["split"] == "query", "path"].iloc[0]


if __name__ == "__main__":
    print(first_query(sys.argv[1]))
