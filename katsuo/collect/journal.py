"""The collect journal: where an embedded DuckDB store's hits are made durable before they are
acknowledged, so that they can go into DuckDB later in large batches (see writer.py).

A directory of numbered segment files (`00000001.journal`, …). Each append is one record: an
8-byte header (payload length, CRC-32 of the payload) and the pickled list of the hits' Batches,
followed by an fdatasync. A record cut short by a crash fails its length or checksum and ends the
reading of its segment; such a record was never acknowledged. A position is (segment, byte offset
after a record); the writer stores the position it has applied in the same DuckDB transaction as
the rows, so a replay after a crash starts right after what DuckDB already holds.

The payload is pickle: the journal is a private file of this process, never read from elsewhere.
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from katsuo.collect.rows import Batch

HEADER = struct.Struct("<II")
SUFFIX = ".journal"
# A new segment file once the current one is this large; applied segments are deleted.
SEGMENT_BYTES = 64 * 1024 * 1024


class Position(NamedTuple):
    segment: int
    offset: int


class Journal:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._file = None
        self._segment = 0
        self._size = 0

    @property
    def segment(self) -> int:
        """The segment being appended to."""
        return self._segment

    def segments(self) -> list[int]:
        return sorted(int(path.stem) for path in self.directory.glob(f"*{SUFFIX}") if path.stem.isdigit())

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:08d}{SUFFIX}"

    def replay(self, applied: Position | None) -> Iterator[tuple[list[Batch], Position]]:
        """The records after `applied`, in order, each with the position after it."""
        for segment in self.segments():
            if applied is not None and segment < applied.segment:
                continue
            offset = applied.offset if applied is not None and segment == applied.segment else 0
            data = self._path(segment).read_bytes()
            while offset + HEADER.size <= len(data):
                length, checksum = HEADER.unpack_from(data, offset)
                payload = data[offset + HEADER.size: offset + HEADER.size + length]
                if len(payload) < length or zlib.crc32(payload) != checksum:
                    break  # cut short by a crash: never acknowledged
                offset += HEADER.size + length
                yield pickle.loads(payload), Position(segment, offset)

    def open(self, applied: Position | None) -> None:
        """Start appending to a new segment after every existing one and after the applied
        position's (a torn tail of the last one stays behind it, unread)."""
        self._start_segment(max([applied.segment if applied else 0, *self.segments()]) + 1)

    def _start_segment(self, segment: int) -> None:
        self.close()
        self._segment, self._size = segment, 0
        self._file = open(self._path(segment), "ab", buffering=0)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new file's name is durable too
        finally:
            os.close(directory)

    def append(self, batches: list[Batch]) -> Position:
        """Write one record and return once it is on disk."""
        payload = pickle.dumps(batches, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            if self._file is None:  # the segment is full, or the last append failed
                self._start_segment(self._segment + 1)
            self._file.write(HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
            os.fdatasync(self._file.fileno())
        except Exception:
            # A record cut short ends the reading of its segment: later ones go to a new one.
            self.close()
            raise
        self._size += HEADER.size + len(payload)
        if self._size >= SEGMENT_BYTES:
            self.close()  # the next append starts a new segment
        return Position(self._segment, self._size)

    def discard_before(self, segment: int) -> None:
        """Delete the segments wholly applied: those before `segment`."""
        for number in self.segments():
            if number < segment:
                self._path(number).unlink(missing_ok=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
