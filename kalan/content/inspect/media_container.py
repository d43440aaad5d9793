"""Durations read from container headers, for machines without ffprobe.

Only what is cheap and certain: MP4/M4V/M4A (the movie header box, found by
seeking from box to box) and WAV (data size over byte rate). Other containers
(WebM, Ogg, MP3) give None: their duration needs a scan or an index that only
ffprobe reads well. Nothing here reads more than a few hundred bytes.
"""

import struct
from pathlib import Path
from typing import BinaryIO

MP4_SUFFIXES = {".mp4", ".m4v", ".m4a"}
MAX_BOXES = 10_000


def container_duration(path: Path) -> float | None:
    """Seconds from the container's header, or None when unknown; never raises on bad data."""
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as handle:
            if suffix in MP4_SUFFIXES:
                return _mp4_duration(handle, path.stat().st_size)
            if suffix == ".wav":
                return _wav_duration(handle, path.stat().st_size)
    except (OSError, struct.error, ValueError):
        return None
    return None


def _boxes(handle: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes between two offsets."""
    found: list[tuple[bytes, int, int]] = []
    offset = start
    while offset + 8 <= end and len(found) < MAX_BOXES:
        handle.seek(offset)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            break
        found.append((kind, offset + header, min(offset + size, end)))
        offset += size
    return found


def _mp4_duration(handle: BinaryIO, file_size: int) -> float | None:
    for kind, start, end in _boxes(handle, 0, file_size):
        if kind != b"moov":
            continue
        for inner, payload, _end in _boxes(handle, start, end):
            if inner == b"mvhd":
                handle.seek(payload)
                version = handle.read(4)[0]
                if version == 1:
                    timescale, duration = struct.unpack(">16xIQ", handle.read(28))
                else:
                    timescale, duration = struct.unpack(">8xII", handle.read(16))
                return duration / timescale if timescale else None
    return None


def _wav_duration(handle: BinaryIO, file_size: int) -> float | None:
    header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return None
    byte_rate = 0
    offset = 12
    for _ in range(MAX_BOXES):
        handle.seek(offset)
        chunk = handle.read(8)
        if len(chunk) < 8:
            return None
        kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if kind == b"fmt ":
            byte_rate = struct.unpack("<8xI", handle.read(12))[0]
        elif kind == b"data":
            size = min(size, file_size - offset - 8)  # streamed files leave 0xFFFFFFFF here
            return size / byte_rate if byte_rate else None
        offset += 8 + size + (size & 1)
    return None
