"""Shoe outlines: a pair of side-view shoes (sneaker, boot or loafer), one above the other."""

from __future__ import annotations

import numpy as np

from clothret.sample_data.shapes import Outline
from clothret.sample_data.vocab import ItemSpec

_SOLE_Y = 0.55  # y of the sole's underside in every profile; the toe points to +x

# Profiles go from the heel's underside up the back, over the top, down to the toe.
_PROFILES: dict[str, list[tuple[float, float]]] = {
    "sneaker": [
        (0.0, 0.55), (0.0, 0.22), (0.06, 0.08), (0.30, 0.10), (0.48, 0.22),
        (0.80, 0.30), (0.96, 0.38), (1.0, 0.47), (1.0, 0.55),
    ],
    "boot": [
        (0.0, 0.55), (0.0, -0.25), (0.34, -0.25), (0.38, 0.18), (0.75, 0.28),
        (0.95, 0.36), (1.0, 0.46), (1.0, 0.55),
    ],
    "loafer": [
        (0.0, 0.55), (0.0, 0.30), (0.05, 0.22), (0.35, 0.27), (0.60, 0.27),
        (0.85, 0.33), (0.98, 0.42), (1.0, 0.55),
    ],
}  # fmt: skip


def _one_shoe(rng: np.random.Generator, kind: str) -> Outline:
    profile = np.asarray(_PROFILES[kind], dtype=np.float64)
    profile[:, 0] *= rng.uniform(0.9, 1.1)
    profile[:, 1] = _SOLE_Y - (_SOLE_Y - profile[:, 1]) * rng.uniform(1.1, 1.45)
    profile[1:-1] += rng.normal(0.0, 0.01, (len(profile) - 2, 2))
    length = float(profile[:, 0].max())
    out = Outline([profile])
    sole = rng.uniform(0.06, 0.1)
    out.fills.append(
        np.asarray([(0, _SOLE_Y - sole), (length, _SOLE_Y - sole), (length, _SOLE_Y), (0, _SOLE_Y)])
    )
    upper = profile[1:-1]
    if kind == "sneaker":  # laces across the vamp
        order = np.argsort(upper[:, 0], kind="stable")
        for x in 0.32 * length + 0.07 * length * np.arange(4):
            y = float(np.interp(x, upper[order, 0], upper[order, 1]))
            out.lines.append(np.asarray([(x, y + 0.03), (x + 0.04, y + 0.08)]))
    elif kind == "boot":  # side seam down the shaft
        out.lines.append(np.asarray([(0.2 * length, upper[:, 1].min() + 0.05), (0.22, 0.4)]))
    else:  # strap across the vamp
        out.lines.append(np.asarray([(0.45 * length, 0.3), (0.6 * length, 0.33)]))
    return out


def shoe_pair(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    """Two copies of one shoe, the second shifted down and sideways so they do not overlap."""
    kind = ("sneaker", "boot", "loafer")[rng.integers(3)]
    shoe = _one_shoe(rng, kind)
    points = shoe.polygons[0]
    shift = np.array([rng.uniform(0.05, 0.15), np.ptp(points[:, 1]) + rng.uniform(0.04, 0.08)])
    out = Outline([])
    for offset in (np.zeros(2), shift):
        out.polygons += [p + offset for p in shoe.polygons]
        out.lines += [p + offset for p in shoe.lines]
        out.fills += [p + offset for p in shoe.fills]
    return out
