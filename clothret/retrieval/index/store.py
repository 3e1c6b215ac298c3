"""An index directory on disk: plain files, a JSON manifest with checksums, atomic replacement.

Layout: ``meta.json`` plus the files an index type writes (faiss index files, ``.npy`` arrays).
``meta.json`` lists every file with its size and SHA-256, and carries a SHA-256 of its own
content, so a truncated, edited, swapped or missing file is detected before anything is parsed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clothret.errors import DataError

META_FILE = "meta.json"
FORMAT = "clothret-index"
FORMAT_VERSION = 1


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 8 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 23):
            digest.update(block)
    return digest.hexdigest()


def meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of the metadata without its own ``checksum`` field, in canonical JSON."""
    body = {k: v for k, v in meta.items() if k != "checksum"}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def write_directory(
    directory: str | os.PathLike, write_files: Callable[[Path], None], meta: dict[str, Any]
) -> Path:
    """Write an index directory atomically: fill a temporary sibling, then rename it into place.

    ``write_files(tmp)`` writes the index's files; ``meta`` (type, params, dims, ...) is completed
    with the format, the file checksums and its own checksum. An existing ``directory`` is
    replaced only when it is empty or holds an index (has ``meta.json``).
    """
    target = Path(directory)
    if target.exists() and not _replaceable(target):
        raise DataError(
            f"{target} exists and is not a clothret index directory; choose a new directory "
            "or remove it first."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()  # unlike mkdtemp, keeps the umask's permissions
    try:
        write_files(tmp)
        files = sorted(p.name for p in tmp.iterdir())
        meta = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            **meta,
            "files": {
                n: {"bytes": (tmp / n).stat().st_size, "sha256": file_sha256(tmp / n)}
                for n in files
            },
        }
        meta["checksum"] = meta_checksum(meta)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        if target.exists():
            old = target.parent / f".{target.name}.{uuid.uuid4().hex}.old"
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def read_meta(directory: str | os.PathLike) -> dict[str, Any]:
    """The verified metadata of an index directory; DataError names what is wrong."""
    root = Path(directory)
    fix = "rebuild the index (clothret index) or restore the directory from a backup"
    if not root.is_dir():
        raise DataError(f"Index directory {root} does not exist.")
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise DataError(f"{root} has no {META_FILE}: not a clothret index directory.")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{meta_path} is not valid JSON ({err}); {fix}.") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DataError(f"{meta_path} is not clothret index metadata; {fix}.")
    if meta.get("checksum") != meta_checksum(meta):
        raise DataError(f"{meta_path} was modified or is corrupt (checksum mismatch); {fix}.")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"{root} was written by clothret {meta.get('clothret_version')} in index format "
            f"{meta['format_version']}; this clothret reads format {FORMAT_VERSION}: upgrade it."
        )
    for name, info in meta["files"].items():
        path = root / name
        if not path.is_file():
            raise DataError(f"{path} is missing from the index directory; {fix}.")
        size = path.stat().st_size
        if size != info["bytes"]:
            raise DataError(
                f"{path} has {size} bytes, expected {info['bytes']} (truncated or replaced); {fix}."
            )
        if file_sha256(path) != info["sha256"]:
            raise DataError(f"{path} does not match its checksum (corrupt); {fix}.")
    return meta


def _replaceable(target: Path) -> bool:
    return target.is_dir() and ((target / META_FILE).is_file() or not any(target.iterdir()))
