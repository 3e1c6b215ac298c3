"""Garment silhouettes (one builder per category) and the textured garment sprite.

A builder returns an :class:`Outline` in a unit coordinate frame (x right, y down): the filled
polygons whose union is the garment, plus detail strokes (seams, collars, plackets, pockets,
laces) and buttons drawn in a darker shade. Proportions are drawn per item, so items of one
category differ in shape as well as in colour and pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from clothret.sample_data import shapes
from clothret.sample_data.patterns import pattern_texture
from clothret.sample_data.shapes import Outline
from clothret.sample_data.shoes import shoe_pair
from clothret.sample_data.vocab import ItemSpec

BUILDERS: dict[str, Callable[[ItemSpec, np.random.Generator], Outline]] = {
    "t-shirt": shapes.tshirt,
    "shirt": shapes.shirt,
    "trousers": shapes.trousers,
    "shorts": shapes.shorts,
    "dress": shapes.dress,
    "skirt": shapes.skirt,
    "jacket": shapes.jacket,
    "shoes": shoe_pair,
}

# Garments are scaled so their larger side spans this share of the unit square.
_EXTENT = 0.9


@dataclass
class Garment:
    """A garment ready to be placed in a view.

    Attributes:
        polygons: filled outline polygons in unit coordinates, each an array [N, 2].
        texture: RGB image of the fabric with its details, covering the unit square.
    """

    polygons: list[np.ndarray]
    texture: Image.Image
    points: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.points = np.concatenate(self.polygons, axis=0)


def _normalise(outline: Outline) -> Outline:
    """Scale and centre the outline so its larger side spans ``_EXTENT`` of the unit square."""
    points = np.concatenate(outline.polygons, axis=0)
    low, high = points.min(axis=0), points.max(axis=0)
    scale = _EXTENT / float((high - low).max())
    offset = 0.5 - scale * (low + high) / 2

    def move(p: np.ndarray) -> np.ndarray:
        return p * scale + offset

    return Outline(
        polygons=[move(p) for p in outline.polygons],
        lines=[move(p) for p in outline.lines],
        fills=[move(p) for p in outline.fills],
        dots=[(*move(np.asarray(c)), r * scale) for *c, r in outline.dots],
    )


def _detail_colour(primary: tuple[float, float, float]) -> tuple[int, int, int]:
    rgb = np.asarray(primary)
    luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    shade = rgb + 80 if luma < 60 else rgb * 0.55
    return tuple(int(c) for c in np.clip(shade, 0, 255))


def build_garment(spec: ItemSpec, rng: np.random.Generator, texture_size: int) -> Garment:
    """Draw the silhouette and fabric of the item described by ``spec``.

    Args:
        spec: the item's labels and colours.
        rng: the item's generator (shape and pattern parameters are drawn from it).
        texture_size: side of the square fabric texture in pixels.
    """
    outline = _normalise(BUILDERS[spec.category](spec, rng))
    fabric = pattern_texture(rng, spec.pattern, spec.primary, spec.secondary, texture_size)
    texture = Image.fromarray(fabric.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(texture)
    colour = _detail_colour(spec.primary)
    width = max(1, round(texture_size * 0.014))

    def px(points: np.ndarray) -> list[tuple[float, float]]:
        return [(float(x) * texture_size, float(y) * texture_size) for x, y in points]

    for poly in outline.fills:
        draw.polygon(px(poly), fill=colour)
    for line in outline.lines:
        draw.line(px(line), fill=colour, width=width, joint="curve")
    for poly in outline.polygons:
        draw.line(px(np.vstack([poly, poly[:1]])), fill=colour, width=width)
    for x, y, r in outline.dots:
        radius = max(r * texture_size, 0.8)
        cx, cy = x * texture_size, y * texture_size
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colour)
    return Garment(polygons=outline.polygons, texture=texture)
