"""Read W&B offline run files (``run-<id>.wandb``) in tests, with no network and no wandb API.

wandb 0.31 dropped its Python reader, but still ships the ``Record`` protobuf. The file is a
LevelDB-style log: header ``b":W&B" + b"\\xe1\\xbe" + b"\\x00"`` (ident, uint16 LE 0xBEE1, version 0),
then 32 KiB blocks of chunks ``<crc32 u32 LE, length u16 LE, type u8, data>``; a block tail shorter
than a chunk header is zero padding. The checksum is plain zlib CRC-32 over ``type byte + data``.
"""

import json
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wandb.proto.wandb_internal_pb2 import Record

FILE_HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK_SIZE = 32 * 1024
CHUNK_HEADER = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class CorruptRunFileError(ValueError):
    """Raised when a .wandb file is not a complete, intact log, so tests fail loudly, not silently."""


class IncompleteRunFileError(CorruptRunFileError):
    """The file ends in the middle of a record: damaged, or still being written."""


def read_records(path: str | Path) -> Iterator[Record]:
    """Yield every Record in a .wandb file, checking each chunk's CRC and joining split records."""
    data = Path(path).read_bytes()
    if not data.startswith(FILE_HEADER):
        raise CorruptRunFileError(f"{path}: bad file header {data[:7]!r}")
    pos, pending = len(FILE_HEADER), None
    while pos < len(data):
        if BLOCK_SIZE - pos % BLOCK_SIZE < CHUNK_HEADER.size:  # block tail too short for a chunk
            pos += BLOCK_SIZE - pos % BLOCK_SIZE
            continue
        if pos + CHUNK_HEADER.size > len(data):
            raise IncompleteRunFileError(f"{path}: truncated chunk header at byte {pos}")
        checksum, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        chunk = data[pos + CHUNK_HEADER.size : pos + CHUNK_HEADER.size + length]
        if len(chunk) != length:
            raise IncompleteRunFileError(f"{path}: chunk at byte {pos} is truncated")
        if zlib.crc32(bytes([kind]) + chunk) != checksum:
            raise CorruptRunFileError(f"{path}: chunk at byte {pos} fails its CRC-32")
        if kind not in (FULL, FIRST, MIDDLE, LAST) or (kind in (FULL, FIRST)) != (pending is None):
            raise CorruptRunFileError(f"{path}: unexpected chunk type {kind} at byte {pos}")
        pos += CHUNK_HEADER.size + length
        pending = (pending or b"") + chunk
        if kind in (FULL, LAST):
            yield Record.FromString(pending)
            pending = None
    if pending is not None:
        raise IncompleteRunFileError(f"{path}: file ends inside a multi-chunk record")


@dataclass
class WandbRun:
    """What a test needs to prove a run logged: id, config, per-step history, summary, exit code."""

    path: Path
    run_id: str = ""
    name: str = ""  # the display name
    group: str = ""
    sweep_id: str = ""
    start_time: int = 0  # nanoseconds since the epoch, from the run record
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    exit_code: int | None = None  # None means no exit record: the run never finished


def _apply(target: dict, updates, removes=()) -> dict:
    """Merge config/summary/history items into ``target``; nested dicts arrive as ``nested_key`` paths."""
    for items, remove in ((updates, False), (removes, True)):
        for item in items:
            *parents, leaf = list(item.nested_key) or [item.key]
            node = target
            for name in parents:
                node = node.setdefault(name, {})
            if remove:
                node.pop(leaf, None)
            else:  # value_json is always written: the SDK rejects a typed-only history encoding
                node[leaf] = json.loads(item.value_json)
    return target


def load_run(run_dir_or_file: str | Path, wait: float = 10.0) -> WandbRun:
    """Fold a run's records; config comes from the run record (init) and later config records.

    W&B's service may still be writing the file's last records when the run has returned from
    `finish()`: an incomplete file, or one without its exit record, is read again for up to
    `wait` seconds.
    """
    path = Path(run_dir_or_file)
    if path.is_dir():
        files = list(path.glob("run-*.wandb"))
        if len(files) != 1:
            raise FileNotFoundError(f"expected one run-*.wandb in {path}, found {len(files)}")
        path = files[0]
    deadline = time.monotonic() + wait
    while True:
        try:
            run = _fold(path)
            if run.exit_code is not None or time.monotonic() > deadline:
                return run
        except IncompleteRunFileError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def _fold(path: Path) -> WandbRun:
    run = WandbRun(path=path)
    for record in read_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.run_id, run.name, run.group = record.run.run_id, record.run.display_name, record.run.run_group
            run.sweep_id = record.run.sweep_id
            run.start_time = record.run.start_time.ToNanoseconds()
            _apply(run.config, record.run.config.update, record.run.config.remove)
        elif kind == "config":
            _apply(run.config, record.config.update, record.config.remove)
        elif kind == "history":
            run.history.append(_apply({}, record.history.item))
        elif kind == "summary":
            _apply(run.summary, record.summary.update, record.summary.remove)
        elif kind == "exit":
            run.exit_code = record.exit.exit_code
    return run


def find_runs(wandb_dir: str | Path) -> list[Path]:
    """Return the offline runs' .wandb files under ``wandb_dir`` (the ``wandb/`` folder)."""
    return sorted(Path(wandb_dir).glob("offline-run-*/run-*.wandb"))


def load_runs(wandb_dir: str | Path) -> list[WandbRun]:
    """Load every offline run under ``wandb_dir``, oldest first.

    Sorted by the run record's start time, read once each file is complete: folder names have
    one-second resolution, and a file W&B is still writing may not hold its run record yet.
    """
    return sorted((load_run(path) for path in find_runs(wandb_dir)), key=lambda run: run.start_time)
