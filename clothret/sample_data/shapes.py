"""Outline builders: one function per category, drawing its proportions from the item's RNG.

Coordinates are in an arbitrary unit frame (x right, y down, garment centred on x = 0.5); the
garment module rescales every outline to the unit square afterwards. Symmetric garments are
described by their right half and mirrored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from clothret.sample_data.vocab import ItemSpec

Point = tuple[float, float]


@dataclass
class Outline:
    """Filled polygons of a garment plus its detail strokes, fills and buttons."""

    polygons: list[np.ndarray]
    lines: list[np.ndarray] = field(default_factory=list)
    fills: list[np.ndarray] = field(default_factory=list)
    dots: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, radius

    def pair(self, points: list[Point], mirrored: bool = True) -> None:
        """Add a detail stroke and (by default) its mirror image across x = 0.5."""
        self.lines.append(np.asarray(points, dtype=np.float64))
        if mirrored:
            self.lines.append(np.asarray([(1 - x, y) for x, y in points], dtype=np.float64))


def _symmetric(right: list[Point], top: Point | None = None, bottom: Point | None = None):
    left = [(1 - x, y) for x, y in reversed(right)]
    points = ([top] if top else []) + right + ([bottom] if bottom else []) + left
    return np.asarray(points, dtype=np.float64)


def _sleeve(rng, out: Outline, shoulder: Point, armpit: Point, kind: str) -> list[Point]:
    """Vertices of the right sleeve between shoulder and armpit; adds the cuff seams."""
    if kind == "short":
        length, angle = rng.uniform(0.12, 0.17), rng.uniform(28, 42)
        cuff, back = 0.8 * (armpit[1] - shoulder[1]), 0.02
    else:
        length, angle = rng.uniform(0.5, 0.6), rng.uniform(60, 72)
        cuff, back = rng.uniform(0.07, 0.09), 0.04
    a = math.radians(angle)
    d, n = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    top = np.asarray(shoulder) + length * d
    bottom = top + cuff * n
    out.pair([tuple(top - back * d), tuple(bottom - back * d)])
    return [tuple(top), tuple(bottom)]


def _top(spec, rng, out: Outline, bw: float, hem: float, nw: float, nd: float, tail: float = 0):
    """Body and sleeves of a top (t-shirt, shirt, jacket, bodice); returns the hem half-width."""
    armpit_y = rng.uniform(0.2, 0.26)
    neck = (0.5 + nw, 0.0)
    if spec.sleeve == "none":
        strap = (0.5 + nw + rng.uniform(0.04, 0.06), 0.0)
        right = [neck, strap, (0.5 + bw * 0.8, armpit_y * 0.65), (0.5 + bw, armpit_y)]
    else:
        shoulder, armpit = (0.5 + bw, rng.uniform(0.03, 0.06)), (0.5 + bw, armpit_y)
        right = [neck, shoulder, *_sleeve(rng, out, shoulder, armpit, spec.sleeve), armpit]
    hw = bw * rng.uniform(0.95, 1.1)
    right.append((0.5 + hw, hem))
    if tail:
        right.append((0.5 + hw * 0.5, hem + tail * 0.7))
    out.polygons.append(_symmetric(right, top=(0.5, nd), bottom=(0.5, hem + tail)))
    return hw


def tshirt(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    out = Outline([])
    nw = rng.uniform(0.06, 0.09)
    nd = rng.uniform(0.12, 0.17) if rng.random() < 0.3 else rng.uniform(0.04, 0.08)
    hem = rng.uniform(0.7, 0.82)
    hw = _top(spec, rng, out, rng.uniform(0.19, 0.24), hem, nw, nd)
    out.pair([(0.5 - nw, 0.025), (0.5, nd + 0.025), (0.5 + nw, 0.025)], mirrored=False)
    out.pair([(0.5 - hw + 0.01, hem - 0.035), (0.5 + hw - 0.01, hem - 0.035)], mirrored=False)
    return out


def shirt(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    out = Outline([])
    nw, nd, bw = rng.uniform(0.05, 0.07), rng.uniform(0.03, 0.05), rng.uniform(0.18, 0.22)
    hem, tail = rng.uniform(0.8, 0.9), rng.uniform(0.02, 0.05)
    _top(spec, rng, out, bw, hem, nw, nd, tail)
    out.pair([(0.5 + nw, 0.0), (0.525, nd + rng.uniform(0.06, 0.09)), (0.5, nd)])
    out.pair([(0.5, nd), (0.5, hem + tail)], mirrored=False)
    for y in np.arange(nd + 0.08, hem - 0.02, rng.uniform(0.09, 0.13)):
        out.dots.append((0.52, float(y), 0.012))
    if rng.random() < 0.5:
        x0, x1 = 0.5 - bw * 0.8, 0.5 - bw * 0.3
        out.pair([(x0, 0.2), (x1, 0.2), (x1, 0.32), (x0, 0.32), (x0, 0.2)], mirrored=False)
    return out


def jacket(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    out = Outline([])
    nw, nd, bw = rng.uniform(0.06, 0.08), rng.uniform(0.22, 0.32), rng.uniform(0.21, 0.26)
    ranges = {"short": (0.75, 0.85), "knee": (1.05, 1.2), "long": (1.35, 1.5)}
    hem = rng.uniform(*ranges[spec.length])
    hw = _top(spec, rng, out, bw, hem, nw, nd)
    out.pair([(0.5 + nw, 0.0), (0.5 + nw + rng.uniform(0.03, 0.06), nd * 0.55), (0.5, nd)])
    out.pair([(0.5, nd), (0.5, hem)], mirrored=False)
    pocket_y = hem * rng.uniform(0.6, 0.72)
    out.pair([(0.5 + bw * 0.3, pocket_y), (0.5 + bw * 0.75, pocket_y + 0.06)])
    out.pair([(0.5 - hw, hem - 0.045), (0.5 + hw, hem - 0.045)], mirrored=False)
    if rng.random() < 0.5:
        for y in np.linspace(nd + 0.05, hem - 0.1, 3 + int(rng.integers(3))):
            out.dots.append((0.47, float(y), 0.015))
    return out


def dress(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    out = Outline([])
    nw, nd, bw = rng.uniform(0.06, 0.09), rng.uniform(0.06, 0.16), rng.uniform(0.15, 0.19)
    armpit_y = rng.uniform(0.2, 0.25)
    waist_y, ww = armpit_y + rng.uniform(0.12, 0.18), bw * rng.uniform(0.75, 0.9)
    ranges = {"short": (0.3, 0.38), "knee": (0.5, 0.6), "long": (0.8, 0.95)}
    skirt = rng.uniform(*ranges[spec.length])
    # The flare does not grow with the length, so a longer dress is visibly taller and slimmer.
    hem, hw = waist_y + skirt, ww + rng.uniform(0.12, 0.28)
    neck = (0.5 + nw, 0.0)
    if spec.sleeve == "none":
        strap = (0.5 + nw + rng.uniform(0.035, 0.05), 0.0)
        right = [neck, strap, (0.5 + bw * 0.9, armpit_y * 0.7), (0.5 + bw, armpit_y)]
    else:
        shoulder, armpit = (0.5 + bw, rng.uniform(0.03, 0.05)), (0.5 + bw, armpit_y)
        right = [neck, shoulder, *_sleeve(rng, out, shoulder, armpit, spec.sleeve), armpit]
    right += [(0.5 + ww, waist_y), (0.5 + hw, hem)]
    out.polygons.append(_symmetric(right, top=(0.5, nd), bottom=(0.5, hem + 0.02)))
    if rng.random() < 0.5:
        belt = [(0.5 - ww, waist_y - 0.02), (0.5 + ww, waist_y - 0.02)]
        out.fills.append(
            np.asarray([*belt, (0.5 + ww, waist_y + 0.02), (0.5 - ww, waist_y + 0.02)])
        )
    else:
        out.pair([(0.5 - ww, waist_y), (0.5 + ww, waist_y)], mirrored=False)
    return out


def skirt(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    out = Outline([])
    ww, band = rng.uniform(0.15, 0.2), rng.uniform(0.05, 0.08)
    ranges = {"short": (0.35, 0.45), "knee": (0.6, 0.7), "long": (0.95, 1.05)}
    length = rng.uniform(*ranges[spec.length])
    hw = ww + min(length, 0.55) * rng.uniform(0.15, 0.45)
    right = [(0.5 + ww, 0.0), (0.5 + ww, band), (0.5 + hw, length)]
    out.polygons.append(_symmetric(right, bottom=(0.5, length)))
    out.pair([(0.5 - ww, band), (0.5 + ww, band)], mirrored=False)
    if rng.random() < 0.5:
        n = int(rng.integers(4, 8))
        for k in range(1, n):
            top, bottom = 0.5 - ww + 2 * ww * k / n, 0.5 - hw + 2 * hw * k / n
            out.pair([(top, band), (bottom, length)], mirrored=False)
    out.dots.append((0.5 + ww * 0.6, band / 2, 0.015))
    return out


def _legs(spec: ItemSpec, rng: np.random.Generator, long_legs: bool) -> Outline:
    out = Outline([])
    ww = rng.uniform(0.17, 0.21)
    hw, hip_y, crotch = (
        ww + rng.uniform(0.01, 0.03),
        rng.uniform(0.16, 0.22),
        rng.uniform(0.27, 0.32),
    )
    if long_legs:
        ranges = {"knee": (0.65, 0.75), "long": (1.0, 1.1)}
        leg, outer = rng.uniform(0.1, 0.14), hw + rng.uniform(-0.03, 0.04)
    else:
        ranges = {"short": (0.36, 0.42), "knee": (0.5, 0.58)}
        leg, outer = rng.uniform(0.14, 0.19), hw + rng.uniform(0.0, 0.04)
    length = rng.uniform(*ranges[spec.length])
    inner = max(outer - leg, 0.015)
    right = [(0.5 + ww, 0.0), (0.5 + hw, hip_y), (0.5 + outer, length), (0.5 + inner, length)]
    out.polygons.append(_symmetric(right, bottom=(0.5, crotch)))
    out.pair([(0.5 - ww, 0.05), (0.5 + ww, 0.05)], mirrored=False)
    out.pair([(0.53, 0.05), (0.53, crotch * 0.6), (0.5, crotch * 0.8)], mirrored=False)
    out.pair([(0.5 + ww - 0.08, 0.05), (0.5 + hw, 0.14)])
    if long_legs:
        out.pair([(0.5 + hw / 2, hip_y), (0.5 + (outer + inner) / 2, length)])
    else:
        out.pair([(0.5 + inner, length - 0.04), (0.5 + outer, length - 0.04)])
    return out


def trousers(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    return _legs(spec, rng, long_legs=True)


def shorts(spec: ItemSpec, rng: np.random.Generator) -> Outline:
    return _legs(spec, rng, long_legs=False)
