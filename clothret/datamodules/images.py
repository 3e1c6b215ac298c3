"""Decode image files to upright RGB, or say exactly why a file cannot be used.

Two decoders give the same pixels: ``torchvision`` (libjpeg-turbo via ``torchvision.io``, JPEG
only; the default, see benchmarks/results/dataloading.json) and ``pil``. Files torchvision cannot
decode (PNG, WebP, unusual JPEGs) go through PIL. Every decoded image is upright (EXIF orientation
applied) RGB: CMYK, greyscale, palette and 16-bit images are converted, and transparent pixels are
composited onto white (a product photo's transparent background is white, not black).
"""

from __future__ import annotations

import csv
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from clothret.errors import DataError
from clothret.utils.io import atomic_write_text

DECODERS = ("torchvision", "pil")
DEFAULT_DECODER = "torchvision"
JPEG_MAGIC = b"\xff\xd8\xff"
_HIGH_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_ORIENTATION = 0x0112  # EXIF tag
BAD_IMAGES_FILE = "bad_images.csv"


class BadImageError(DataError):
    """An image file that cannot be decoded; ``path``, ``row`` and ``reason`` say which and why."""

    def __init__(self, path: str | Path, reason: str, row: int | None = None) -> None:
        self.path, self.reason, self.row = str(path), reason, row
        where = f" (manifest row {row})" if row is not None else ""
        super().__init__(
            f"Cannot use image '{path}'{where}: {reason}. Fix or remove the file, or set "
            "data.on_bad_image=skip to drop such rows."
        )


def check_decoder(decoder: str) -> str:
    if decoder not in DECODERS:
        raise DataError(
            f"Unknown image decoder {decoder!r}; expected one of {', '.join(DECODERS)}."
        )
    return decoder


def read_bytes(path: str | Path, row: int | None = None) -> bytes:
    """The file's bytes; a missing, unreadable or empty file raises :class:`BadImageError`."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BadImageError(path, "file not found", row) from None
    except OSError as err:
        raise BadImageError(path, f"unreadable file ({err.strerror or err})", row) from None
    if not data:
        raise BadImageError(path, "zero-size file", row)
    return data


def load_image(
    path: str | Path, decoder: str = DEFAULT_DECODER, row: int | None = None
) -> Image.Image:
    """Decode ``path`` to an upright RGB ``PIL.Image`` (raises :class:`BadImageError`)."""
    data = read_bytes(path, row)
    if decoder == "torchvision" and data.startswith(JPEG_MAGIC):
        image = _decode_torchvision(data)
        if image is not None:
            return image
    return _decode_pil(data, path, row)


def _decode_torchvision(data: bytes) -> Image.Image | None:
    """JPEG via torchvision.io (EXIF applied, CMYK/grey → RGB); None where it cannot decode."""
    try:  # deprecated in torchvision 0.29 in favour of TorchCodec; PIL takes over once removed
        from torchvision.io import ImageReadMode, decode_jpeg
    except ImportError:
        return None

    # torchvision 0.29 warns on every decode that its decoders move to TorchCodec; the call still
    # works, and one warning per image would bury every other message. (catch_warnings is not
    # thread-safe; this path runs in the loader's main thread or worker processes only.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            tensor = decode_jpeg(
                torch.frombuffer(bytearray(data), dtype=torch.uint8),
                mode=ImageReadMode.RGB,
                apply_exif_orientation=True,
            )
        except RuntimeError:
            return None  # PIL decodes it or reports why not
    return Image.fromarray(tensor.permute(1, 2, 0).contiguous().numpy(), "RGB")


def _decode_pil(data: bytes, path: str | Path, row: int | None) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return to_rgb(ImageOps.exif_transpose(image), path, row)
    except BadImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(path, f"cannot decode ({err})", row) from None


def to_rgb(image: Image.Image, path: str | Path = "", row: int | None = None) -> Image.Image:
    """Convert any PIL mode to RGB without silently wrong pixels."""
    if image.mode in _HIGH_BIT_MODES:
        # PIL's convert() clips 16-bit samples at 255 (a white image); rescale instead.
        values = np.asarray(image, dtype=np.float64) / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if image.mode in ("P", "L", "RGB") and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if image.mode in ("RGB", "L", "1", "P", "CMYK", "YCbCr", "RGBX"):
        return image.convert("RGB")
    raise BadImageError(path, f"unsupported pixel mode {image.mode!r}", row)


@dataclass(frozen=True)
class ImageCheck:
    """Result of :func:`check_image`: the problem (None when usable) and the upright size."""

    reason: str | None
    size: tuple[int, int] | None = None


def check_image(path: str | Path) -> ImageCheck:
    """Cheap full check of one file: header, then a decode (JPEG at 1/8 scale, which still reads
    the whole stream, so truncation is caught)."""
    try:
        data = read_bytes(path)
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            if min(size) <= 0:
                return ImageCheck("image has zero width or height")
            if image.format == "JPEG":
                image.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            orientation = image.getexif().get(_ORIENTATION, 1)
            image.load()
            to_rgb(image, path)
    except BadImageError as err:
        return ImageCheck(err.reason)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return ImageCheck(f"cannot decode ({err})")
    # Orientations 5-8 turn the image by 90 degrees: the upright size is the stored one swapped.
    upright = (size[1], size[0]) if orientation in (5, 6, 7, 8) else size
    return ImageCheck(None, upright)


@dataclass(frozen=True)
class BadImage:
    """One unusable image: its path, manifest row and the reason."""

    path: str
    row: int
    reason: str


def scan_images(
    paths: list[str], rows: list[int], num_threads: int = 8
) -> tuple[list[BadImage], list[tuple[int, int] | None]]:
    """Check every image in parallel threads (PIL decodes without the GIL).

    Returns:
        The bad images (in manifest order) and, per input, the upright size (None if bad).
    """
    with ThreadPoolExecutor(max_workers=max(1, num_threads)) as pool:
        checks = list(pool.map(check_image, paths, chunksize=16))
    bad = [
        BadImage(p, r, c.reason)
        for p, r, c in zip(paths, rows, checks, strict=True)
        if c.reason is not None
    ]
    return bad, [c.size for c in checks]


def write_bad_images(bad: list[BadImage], directory: str | Path) -> Path:
    """Write ``bad_images.csv`` (path, row, reason) into ``directory`` atomically."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["path", "row", "reason"])
    writer.writerows([b.path, b.row, b.reason] for b in bad)
    return atomic_write_text(Path(directory) / BAD_IMAGES_FILE, text.getvalue())
