"""Fabric textures (solid, stripes, checks, dots, print) drawn over a whole square canvas.

Textures live in the garment's unit square and are computed on a pixel grid with numpy in one
pass per pattern; the garment outline cuts them out later. Every item draws its own period,
angle and motif, so two items with the same labels still look different.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    return np.meshgrid(coords, coords)  # u (x) and v (y), each [size, size]


def _motif(kind: int, cx: float, cy: float, radius: float, angle: float) -> list[tuple]:
    """Vertices of a star (kind 0), regular polygon (1) or blob (2) in unit coordinates."""
    n = (5, 4, 10)[kind]
    points = []
    for k in range(2 * n if kind == 0 else n):
        r = radius * (0.45 if kind == 0 and k % 2 else 1.0)
        a = angle + math.pi * k / n if kind == 0 else angle + 2 * math.pi * k / n
        if kind == 2:
            r *= 0.75 + 0.25 * math.cos(3 * a)
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    return points


def _print_mask(rng: np.random.Generator, size: int) -> np.ndarray:
    """A scatter of small motifs or one large central graphic, as a [size, size] bool mask."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    kind = int(rng.integers(3))
    if rng.random() < 0.5:
        centres = [(0.5, rng.uniform(0.4, 0.5), rng.uniform(0.14, 0.22))]
    else:
        count = int(rng.integers(6, 13))
        xy = rng.uniform(0.05, 0.95, (count, 2))
        centres = [(x, y, rng.uniform(0.05, 0.09)) for x, y in xy]
    for cx, cy, radius in centres:
        points = _motif(kind, cx, cy, radius, rng.uniform(0, 2 * math.pi))
        draw.polygon([(x * size, y * size) for x, y in points], fill=255)
    return np.asarray(canvas) > 127


def pattern_texture(
    rng: np.random.Generator,
    pattern: str,
    primary: tuple[float, float, float],
    secondary: tuple[float, float, float],
    size: int,
) -> np.ndarray:
    """Draw a ``pattern`` texture in two colours.

    Args:
        rng: the item's generator; the pattern's period, angle and motifs are drawn from it.
        pattern: one of ``vocab.PATTERNS``.
        primary: RGB of the base colour.
        secondary: RGB of the pattern colour (ignored for ``solid``).
        size: side of the square texture in pixels.

    Returns:
        float32 array [size, size, 3] in 0–255.
    """
    u, v = _grid(size)
    period = rng.uniform(0.09, 0.2)
    angle = rng.choice([0.0, 0.5 * math.pi, 0.25 * math.pi, rng.uniform(0, math.pi)])
    ru = u * math.cos(angle) + v * math.sin(angle)
    rv = -u * math.sin(angle) + v * math.cos(angle)
    if pattern == "solid":
        weight = np.zeros_like(u)
    elif pattern == "stripes":
        weight = ((ru / period + rng.random()) % 1.0 < rng.uniform(0.3, 0.6)).astype(np.float32)
    elif pattern == "checks":
        a = np.floor(ru / period).astype(np.int64)
        b = np.floor(rv / period).astype(np.int64)
        if rng.random() < 0.5:  # classic two-colour checks
            weight = ((a + b) % 2).astype(np.float32)
        else:  # gingham: overlapping bands give a third, mixed tone
            weight = 0.5 * ((a % 2) + (b % 2)).astype(np.float32)
    elif pattern == "dots":
        spacing = period * 0.9
        row = np.floor(v / spacing)
        shift = 0.5 * (row % 2) if rng.random() < 0.5 else 0.0
        fu = (u / spacing + shift) % 1.0 - 0.5
        fv = (v / spacing) % 1.0 - 0.5
        weight = (fu**2 + fv**2 < rng.uniform(0.2, 0.32) ** 2).astype(np.float32)
    elif pattern == "print":
        weight = _print_mask(rng, size).astype(np.float32)
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    # Soft vertical folds so a garment is not perfectly flat.
    folds = 1.0 + 0.07 * np.sin(2 * math.pi * (rng.uniform(1.5, 3.0) * u + rng.random()))
    base = np.asarray(primary, dtype=np.float32)
    accent = np.asarray(secondary, dtype=np.float32)
    texture = base + weight[..., None] * (accent - base)
    return np.clip(texture * folds[..., None], 0, 255).astype(np.float32)
