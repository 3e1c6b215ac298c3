"""Image decoding: every awkward file decodes to the right upright RGB pixels, or fails by name."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clothret.datamodules.images import (
    DECODERS,
    BadImageError,
    check_image,
    load_image,
    scan_images,
    write_bad_images,
)

REAL_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def blocks() -> np.ndarray:
    """A 32x48 (HxW) RGB image of four flat quadrants: red, green, blue, yellow."""
    image = np.zeros((32, 48, 3), np.uint8)
    image[:16, :24], image[:16, 24:] = (220, 20, 20), (20, 220, 20)
    image[16:, :24], image[16:, 24:] = (20, 20, 220), (220, 220, 20)
    return image


def assert_close(decoded: Image.Image, expected: np.ndarray, tol: float = 6.0) -> None:
    """Pixel agreement away from block edges (JPEG blurs edges a little)."""
    got = np.asarray(decoded).astype(float)
    assert decoded.mode == "RGB"
    assert got.shape == expected.shape
    h, w = expected.shape[:2]
    inner = (slice(4, h // 2 - 4), slice(4, w // 2 - 4))
    for dy in (0, h // 2):
        for dx in (0, w // 2):
            rows = slice(inner[0].start + dy, inner[0].stop + dy)
            region = (rows, slice(inner[1].start + dx, inner[1].stop + dx))
            diff = np.abs(got[region] - expected[region].astype(float)).mean()
            assert diff < tol, (region, diff)


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(("orientation", "turns"), [(3, 2), (6, -1), (8, 1)])
def test_exif_rotated_jpeg_is_decoded_upright(
    tmp_path: Path, decoder: str, orientation: int, turns: int
) -> None:
    # EXIF 6 = "rotate 90° clockwise to display", 8 = counter-clockwise, 3 = 180°.
    raw = blocks()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.jpg"
    Image.fromarray(raw).save(path, quality=95, exif=exif.tobytes())
    assert_close(load_image(path, decoder), np.rot90(raw, k=turns))
    assert check_image(path).size == np.rot90(raw, k=turns).shape[1::-1]


@pytest.mark.parametrize("decoder", DECODERS)
def test_cmyk_jpeg_gives_the_original_colours(tmp_path: Path, decoder: str) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(blocks()).convert("CMYK").save(path, quality=95)
    assert Image.open(path).mode == "CMYK"
    assert_close(load_image(path, decoder), blocks())


@pytest.mark.parametrize("decoder", DECODERS)
def test_greyscale_jpeg_becomes_grey_rgb(tmp_path: Path, decoder: str) -> None:
    grey = np.tile(np.repeat([40, 200], 24)[None, :], (32, 1)).astype(np.uint8)
    path = tmp_path / "grey.jpg"
    Image.fromarray(grey, "L").save(path, quality=95)
    assert_close(load_image(path, decoder), np.repeat(grey[..., None], 3, axis=2))


@pytest.mark.parametrize("decoder", DECODERS)
def test_rgba_png_is_composited_on_white(tmp_path: Path, decoder: str) -> None:
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., :3] = (10, 200, 10)
    rgba[:, :24, 3] = 0  # transparent
    rgba[:, 24:, 3] = 255  # opaque
    rgba[:16, 24:, :] = (0, 0, 0, 128)  # half-transparent black
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    got = np.asarray(load_image(path, decoder)).astype(float)
    alpha = rgba[..., 3:4] / 255.0
    expected = alpha * rgba[..., :3] + (1 - alpha) * 255.0  # "over" onto white
    assert np.abs(got - expected).max() <= 1.0


@pytest.mark.parametrize("decoder", DECODERS)
def test_palette_png_with_transparency(tmp_path: Path, decoder: str) -> None:
    indices = np.zeros((8, 8), np.uint8)
    indices[:, 4:] = 1
    image = Image.fromarray(indices, "P")
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)
    got = np.asarray(load_image(path, decoder))
    assert (got[:, :4] == 255).all() and (got[:, 4:] == (200, 30, 30)).all()


def png_bit_depth(path: Path) -> int:
    return path.read_bytes()[24]  # IHDR: 8-byte signature, length, type, width, height, depth


@pytest.mark.parametrize("decoder", DECODERS)
def test_16bit_greyscale_png_is_rescaled_not_clipped(tmp_path: Path, decoder: str) -> None:
    levels = np.arange(0, 256, 8, dtype=np.uint16)
    values = np.tile(levels * 257, (4, 1))  # 16-bit samples of 8-bit levels
    path = tmp_path / "grey16.png"
    Image.fromarray(values).save(path)
    assert png_bit_depth(path) == 16
    got = np.asarray(load_image(path, decoder)).astype(int)
    assert np.abs(got - np.tile(levels, (4, 1))[..., None]).max() <= 1


def write_rgb16_png(path: Path, pixels: np.ndarray) -> None:
    """A 48-bit RGB PNG written from the spec (Pillow does not write 16-bit RGB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in pixels)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("decoder", DECODERS)
def test_16bit_rgb_png(tmp_path: Path, decoder: str) -> None:
    eight = blocks()
    path = tmp_path / "rgb16.png"
    write_rgb16_png(path, eight.astype(np.uint16) * 257)
    assert png_bit_depth(path) == 16
    assert np.abs(np.asarray(load_image(path, decoder)).astype(int) - eight).max() <= 1


def truncated_jpeg(path: Path) -> Path:
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p, "file not found"),
        (lambda p: (p.write_bytes(b""), p)[1], "zero-size file"),
        (lambda p: (p.write_bytes(b"\xff\xd8\xff" + b"not a jpeg" * 20), p)[1], "cannot decode"),
        (lambda p: (p.write_bytes(b"plain text, not an image"), p)[1], "cannot decode"),
        (truncated_jpeg, "cannot decode"),
        (lambda p: (p.mkdir(), p)[1], "unreadable file"),
    ],
    ids=["missing", "zero-size", "corrupt-jpeg", "not-an-image", "truncated", "directory"],
)
def test_bad_files_raise_naming_file_and_row(tmp_path: Path, decoder: str, make, reason) -> None:
    path = make(tmp_path / "bad.jpg")
    with pytest.raises(BadImageError) as info:
        load_image(path, decoder, row=7)
    message = str(info.value)
    assert str(path) in message and "manifest row 7" in message and reason in message
    assert "on_bad_image=skip" in message
    assert check_image(path).reason is not None and reason in check_image(path).reason


def test_scan_finds_exactly_the_bad_files_and_writes_the_report(tmp_path: Path) -> None:
    good = [tmp_path / f"good{i}.jpg" for i in range(5)]
    for i, path in enumerate(good):
        Image.fromarray(np.full((20, 30, 3), i * 40, np.uint8)).save(path)
    missing, empty = tmp_path / "missing.jpg", tmp_path / "empty.png"
    empty.write_bytes(b"")
    truncated = truncated_jpeg(tmp_path / "truncated.jpg")
    paths = [str(p) for p in [good[0], missing, good[1], empty, good[2], truncated, *good[3:]]]
    bad, sizes = scan_images(paths, list(range(10, 10 + len(paths))), num_threads=3)
    assert [(b.path, b.row) for b in bad] == [(paths[1], 11), (paths[3], 13), (paths[5], 15)]
    assert [s is None for s in sizes] == [False, True, False, True, False, True, False, False]
    assert sizes[0] == (30, 20)
    report = write_bad_images(bad, tmp_path / "run").read_text().splitlines()
    assert report[0] == "path,row,reason"
    assert [line.split(",")[:2] for line in report[1:]] == [[b.path, str(b.row)] for b in bad]


@pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"real photos not found at {REAL_DATA}")
@pytest.mark.parametrize("folder", ["fashion-product", "clothing-cc0"])
def test_both_decoders_agree_on_real_photos(folder: str) -> None:
    files = sorted((REAL_DATA / folder / "images").glob("*.jpg"))[::250][:8]
    assert files, f"no JPEGs in {REAL_DATA / folder}"
    for path in files:
        pil = np.asarray(load_image(path, "pil")).astype(float)
        tv = np.asarray(load_image(path, "torchvision")).astype(float)
        assert pil.shape == tv.shape and pil.shape[2] == 3
        assert np.abs(pil - tv).mean() < 0.5, path
        assert check_image(path).reason is None
