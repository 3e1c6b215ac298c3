"""Render one view of a garment: clean "shop" photos and degraded "consumer" photos.

A view places the garment's unit square in the image with a homography (scale, rotation,
mirror, perspective), warps the fabric texture with it and rasterises the transformed outline
polygons for the mask, so the mask and the bounding box are exact in the final pixel frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from clothret.sample_data.backgrounds import cluttered_background, occlude, plain_background
from clothret.sample_data.garments import Garment

_UNIT_SQUARE = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
_SUPERSAMPLE = 2  # the mask is drawn at this multiple of the image size, then box-filtered


@dataclass
class View:
    """One rendered image with its garment mask (0/255) and box (x1, y1, x2, y2 in pixels)."""

    image: Image.Image
    mask: Image.Image
    bbox: tuple[int, int, int, int]
    quality: int


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """3x3 matrix mapping four ``src`` points onto four ``dst`` points (direct linear solve)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map [N, 2] points through ``h``."""
    mapped = np.c_[points, np.ones(len(points))] @ h.T
    return mapped[:, :2] / mapped[:, 2:3]


def _placement(
    rng,
    garment: Garment,
    size: int,
    scale: float,
    rotation: float,
    mirror: bool,
    perspective: float,
    centred: bool,
) -> np.ndarray:
    """Homography from the unit square to pixels that keeps the whole garment inside."""
    corners = (_UNIT_SQUARE - 0.5) * scale * size
    if mirror:
        corners[:, 0] *= -1
    c, s = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    corners = corners @ np.array([[c, s], [-s, c]])
    corners += np.clip(rng.normal(0, perspective * scale * size, (4, 2)), -0.15 * size, 0.15 * size)
    points = apply_homography(homography(_UNIT_SQUARE, corners), garment.points)
    low, high = points.min(axis=0), points.max(axis=0)
    fit = min(1.0, (size - 2) / float((high - low).max()))
    corners, low, high = corners * fit, low * fit, high * fit
    if centred:
        shift = (size - (low + high)) / 2 + rng.uniform(-0.03, 0.03, 2) * size
        shift = np.clip(shift, 1 - low, size - 1 - high)
    else:
        shift = rng.uniform(1 - low, np.maximum(size - 1 - high, 1 - low))
    return homography(_UNIT_SQUARE, corners + shift)


def _warp(garment: Garment, h: np.ndarray, size: int):
    """Warp the garment into the image frame; returns (fabric, alpha, bbox)."""
    tex = garment.texture.size[0]
    inverse = np.diag([tex, tex, 1.0]) @ np.linalg.inv(h)
    coeffs = (inverse / inverse[2, 2]).ravel()[:8]
    fabric = garment.texture.transform((size, size), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    big = Image.new("L", (size * _SUPERSAMPLE, size * _SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    for poly in garment.polygons:
        # ImageDraw puts integer coordinates on pixel centres, hence the half-pixel shift.
        pts = apply_homography(h, poly) * _SUPERSAMPLE - 0.5
        draw.polygon([tuple(p) for p in pts.tolist()], fill=255)
    alpha = np.asarray(big.resize((size, size), Image.BOX), dtype=np.float32) / 255
    points = apply_homography(h, garment.points)
    low = np.clip(np.floor(points.min(axis=0)), 0, size).astype(int)
    high = np.clip(np.ceil(points.max(axis=0)), 0, size).astype(int)
    bbox = (int(low[0]), int(low[1]), int(high[0]), int(high[1]))
    return np.asarray(fabric, dtype=np.float32), alpha, bbox


def _paste(background: np.ndarray, fabric: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return background + alpha[..., None] * (fabric - background)


def _finish(image: np.ndarray, alpha: np.ndarray, bbox, quality: int) -> View:
    rgb = Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8), "RGB")
    mask = Image.fromarray(np.where(alpha >= 0.5, 255, 0).astype(np.uint8), "L")
    return View(rgb, mask, bbox, quality)


def shop_view(garment: Garment, rng: np.random.Generator, size: int) -> View:
    """Centred garment on a plain light background with a soft drop shadow."""
    background = plain_background(rng, size)
    h = _placement(
        rng, garment, size, rng.uniform(0.82, 0.95), rng.uniform(-3, 3), False, 0.0, centred=True
    )
    fabric, alpha, bbox = _warp(garment, h, size)
    shadow = Image.fromarray((alpha * 255).astype(np.uint8), "L").filter(
        ImageFilter.GaussianBlur(2)
    )
    dx, dy = (int(v) for v in rng.integers(1, 4, 2))
    offset = np.zeros((size, size), dtype=np.float32)
    offset[dy:, dx:] = np.asarray(shadow, dtype=np.float32)[: size - dy, : size - dx] / 255
    background *= (1 - rng.uniform(0.15, 0.3) * offset)[..., None]
    return _finish(_paste(background, fabric, alpha), alpha, bbox, quality=92)


def consumer_view(garment: Garment, rng: np.random.Generator, size: int) -> View:
    """Garment on clutter, warped, partly occluded, with a lighting change, blur and noise."""
    background = cluttered_background(rng, size)
    h = _placement(
        rng,
        garment,
        size,
        rng.uniform(0.6, 0.95),
        rng.uniform(-30, 30),
        bool(rng.random() < 0.5),
        0.07,
        centred=False,
    )
    fabric, alpha, bbox = _warp(garment, h, size)
    image = _paste(background, fabric, alpha)
    if rng.random() < 0.6:
        image = occlude(image, rng, bbox)
    gain = rng.uniform(0.7, 1.2) * rng.uniform(0.88, 1.12, 3)
    angle, strength = rng.uniform(0, 2 * math.pi), rng.uniform(0, 0.5)
    ramp = (np.arange(size, dtype=np.float32) / size) - 0.5
    light = 1 + strength * (math.cos(angle) * ramp[None, :] + math.sin(angle) * ramp[:, None])
    image = 255 * np.clip(image / 255 * gain * light[..., None], 0, 1) ** rng.uniform(0.8, 1.25)
    if rng.random() < 0.5:
        blurred = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")
        blurred = blurred.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
        image = np.asarray(blurred, dtype=np.float32)
    image = image + rng.normal(0, rng.uniform(0, 6), image.shape)
    return _finish(image, alpha, bbox, quality=int(rng.integers(60, 91)))
