"""Backgrounds (plain studio, cluttered room) and occluders for the generated views.

All functions work on float32 RGB arrays [H, W, 3] in 0–255 so views can be composited with
plain numpy arithmetic; PIL is used only to rasterise shapes.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def plain_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Near-white studio background with a faint tint and vertical gradient."""
    base = rng.uniform(228, 252) + rng.uniform(-5, 5, 3)
    ramp = np.linspace(-1.0, 1.0, size, dtype=np.float32)[:, None, None] * rng.uniform(0, 8)
    column = np.clip(base[None, None, :] + ramp, 0, 255).astype(np.float32)
    return np.repeat(column, size, axis=1)


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(20, 235, 3).astype(np.float32)


def _base_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A floor/bed/table-like surface: smooth colour blotches, wood grain or tiles."""
    kind = int(rng.integers(3))
    first, second = _random_colour(rng), _random_colour(rng)
    if kind == 0:  # blotches: a coarse random grid upsampled (PIL's bicubic does the smoothing)
        cells = int(rng.integers(3, 7))
        coarse = rng.uniform(0, 1, (cells, cells)).astype(np.float32)
        smooth = Image.fromarray(coarse, "F").resize((size, size), Image.BICUBIC)
        weight = np.clip(np.asarray(smooth), 0, 1)
    else:
        y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
        if kind == 1:  # wood grain: wavy stripes
            angle = rng.uniform(0, math.pi)
            t = x * math.cos(angle) + y * math.sin(angle)
            wave = 0.04 * np.sin(2 * math.pi * (rng.uniform(1, 3) * (y - x) + rng.random()))
            weight = 0.5 + 0.5 * np.sin(2 * math.pi * rng.uniform(4, 12) * (t + wave))
        else:  # tiles with grout lines
            period = rng.uniform(0.15, 0.35)
            grout = rng.uniform(0.04, 0.1)
            weight = (((x / period) % 1 < grout) | ((y / period) % 1 < grout)).astype(np.float32)
    image = first + weight[..., None] * (second - first)
    return image + rng.normal(0, 4, (size, size, 1)).astype(np.float32)


def _shape(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box, colour) -> None:
    kind = int(rng.integers(4))
    fill = tuple(int(c) for c in colour)
    if kind == 0:
        draw.ellipse(box, fill=fill)
    elif kind == 1:
        draw.rectangle(box, fill=fill)
    elif kind == 2:
        x0, y0, x1, y1 = box
        xs, ys = rng.uniform(x0, x1, 5), rng.uniform(y0, y1, 5)
        draw.polygon(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=fill)
    else:
        draw.line(box, fill=fill, width=max(2, int((box[2] - box[0]) / 6)))


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2))


def cluttered_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A busy surface with 3–8 random objects lying on it."""
    image = Image.fromarray(np.clip(_base_texture(rng, size), 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        cx, cy = rng.uniform(0, size, 2)
        w, h = rng.uniform(0.1, 0.45, 2) * size
        _shape(draw, rng, _box(cx, cy, w, h), _random_colour(rng))
    return np.asarray(image, dtype=np.float32)


def occlude(image: np.ndarray, rng: np.random.Generator, bbox: tuple[int, int, int, int]):
    """Cover part of the garment with an object entering from one side of its box."""
    x1, y1, x2, y2 = bbox
    bw, bh = max(x2 - x1, 2), max(y2 - y1, 2)
    side = int(rng.integers(4))
    t = rng.uniform(0.2, 0.8)
    cx, cy = [(x1, y1 + t * bh), (x2, y1 + t * bh), (x1 + t * bw, y1), (x1 + t * bw, y2)][side]
    w, h = bw * rng.uniform(0.3, 0.55), bh * rng.uniform(0.3, 0.55)
    canvas = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")
    _shape(ImageDraw.Draw(canvas), rng, _box(cx, cy, w, h), _random_colour(rng))
    return np.asarray(canvas, dtype=np.float32)
