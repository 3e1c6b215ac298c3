"""Read what an offline W&B run recorded (config, history, summary, artifacts), no network.

An offline run (``WANDB_MODE=offline``) keeps everything it logs in ``run-<id>.wandb`` inside
its ``offline-run-*`` directory: protobuf ``Record`` messages in LevelDB's log format (blocks of
32 KiB; each chunk is a 7-byte header ``crc32 | length | type`` then the data), which
``wandb sync`` uploads later. Current wandb versions read that file only in their compiled core,
so this reader lets CI and users inspect an offline run before (or without) syncing it.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_HEADER = struct.Struct("<4sHB")  # ident ":W&B", magic 0xBEE1, version
CHUNK_HEADER = struct.Struct("<IHB")  # crc32 of type + data, data length, chunk type
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


@dataclass
class OfflineRun:
    """The contents of one offline run directory."""

    path: Path
    run: dict[str, Any] = field(default_factory=dict)  # id, project, name, group, job_type, tags
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)  # name, type, aliases, ...
    files: list[str] = field(default_factory=list)  # paths under the run's files/ directory

    def metric_names(self) -> set[str]:
        """Every key logged to the history."""
        return {key for row in self.history for key in row}


def offline_runs(wandb_dir: str | Path) -> list[Path]:
    """The ``offline-run-*`` directories under ``wandb_dir`` (or its ``wandb/``), oldest first."""
    root = Path(wandb_dir)
    found = list(root.glob("offline-run-*")) + list(root.glob("wandb/offline-run-*"))
    return sorted(p for p in found if p.is_dir())


def iter_record_bytes(path: str | Path) -> Iterator[bytes]:
    """The serialized records of a ``.wandb`` file, checksums verified."""
    data = Path(path).read_bytes()
    ident, magic, _ = FILE_HEADER.unpack_from(data)
    if ident != b":W&B" or magic != 0xBEE1:
        raise ValueError(f"{path} is not a W&B transaction log.")
    pos, pending = FILE_HEADER.size, b""
    while pos + CHUNK_HEADER.size <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < CHUNK_HEADER.size:  # block trailer: zero padding
            pos += left_in_block
            continue
        crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        if kind == 0 and length == 0:  # rest of the block is padding
            pos += left_in_block
            continue
        chunk = data[pos + CHUNK_HEADER.size : pos + CHUNK_HEADER.size + length]
        if zlib.crc32(bytes([kind]) + chunk) != crc:
            raise ValueError(f"{path}: corrupt record at byte {pos}.")
        pos += CHUNK_HEADER.size + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            yield pending + chunk
            pending = b""


def read_offline_run(run_dir: str | Path) -> OfflineRun:
    """Replay the records of ``run_dir``'s ``run-*.wandb`` into config, history and summary."""
    from wandb.proto import wandb_internal_pb2 as pb

    run_dir = Path(run_dir)
    logs = sorted(run_dir.glob("run-*.wandb"))
    if not logs:
        raise FileNotFoundError(f"No run-*.wandb file in {run_dir}.")
    out = OfflineRun(path=run_dir)
    for raw in iter_record_bytes(logs[0]):
        record = pb.Record()
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            _apply_run(out, record.run)
        elif kind == "config":
            _apply_updates(out.config, record.config.update, record.config.remove)
        elif kind == "summary":
            _apply_updates(out.summary, record.summary.update, record.summary.remove)
        elif kind == "history":
            row: dict[str, Any] = {}
            _apply_updates(row, record.history.item, ())
            out.history.append(row)
        elif kind == "files":
            out.files.extend(item.path for item in record.files.files)
        elif kind == "artifact":
            art = record.artifact
            out.artifacts.append(
                {
                    "name": art.name,
                    "type": art.type,
                    "aliases": list(art.aliases),
                    "metadata": json.loads(art.metadata) if art.metadata else {},
                    "files": [entry.path for entry in art.manifest.contents],
                }
            )
    return out


def _apply_run(out: OfflineRun, run: Any) -> None:
    fields = {
        "id": run.run_id,
        "project": run.project,
        "entity": run.entity,
        "name": run.display_name,
        "group": run.run_group,
        "job_type": run.job_type,
    }
    out.run.update({k: v for k, v in fields.items() if v})
    out.run["tags"] = list(run.tags) or out.run.get("tags", [])
    _apply_updates(out.config, run.config.update, run.config.remove)


def _apply_updates(target: dict[str, Any], updates: Any, removes: Any) -> None:
    for item in updates:
        path = [item.key] if item.key else list(item.nested_key)
        node = target
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _value(item)
    for item in removes:
        path = [item.key] if item.key else list(item.nested_key)
        node = target
        for part in path[:-1]:
            node = node.get(part, {})
        node.pop(path[-1], None)


def _value(item: Any) -> Any:
    if item.value_json:
        return json.loads(item.value_json)
    oneof = item.WhichOneof("value") if "value" in item.DESCRIPTOR.oneofs_by_name else None
    if oneof == "json":
        return json.loads(item.json)
    return None if oneof in (None, "none") else getattr(item, oneof)
