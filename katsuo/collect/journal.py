"""The collect journal: where an embedded DuckDB store's hits are made durable before they are
acknowledged, so that they can go into DuckDB later in large batches (see writer.py).

A directory of numbered segment files (`00000001.journal`, …). A segment starts with an 8-byte
format header (`KATSUOJ` and the format version); then each append is one record: an 8-byte
header (payload length, CRC-32 of the payload) and the payload, followed by an fdatasync. A record
cut short by a crash fails its length or checksum and ends the reading of its segment; such a
record was never acknowledged. A position is (segment, byte offset after a record); the writer
stores the position it has applied in the same DuckDB transaction as the rows, so a replay after
a crash starts right after what DuckDB already holds.

The payload (version 2) is JSON: per hit, per table, the column names once and the rows as
arrays. Rows are rebuilt by name, so a journal left by a crash replays after an upgrade that
added columns to a row type (they get None) or removed some (dropped). Segments without the
format header are version 1, written before it existed: pickled lists of Batches. They are still
read, so that an upgrade replays what the previous version left.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import struct
import typing
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import orjson

from katsuo.collect import rows
from katsuo.collect.rows import Batch

log = logging.getLogger("katsuo.collect")

FORMAT_VERSION = 2
FORMAT_HEADER = b"KATSUOJ" + bytes([FORMAT_VERSION])
HEADER = struct.Struct("<II")
SUFFIX = ".journal"
# A new segment file once the current one is this large; applied segments are deleted.
SEGMENT_BYTES = 64 * 1024 * 1024

# Batch attribute → row type, as records name them.
TABLES: dict[str, type[tuple]] = {
    "sessions": rows.SessionRow,
    "events": rows.EventRow,
    "event_data": rows.EventDataRow,
    "session_data": rows.SessionDataRow,
    "revenue": rows.RevenueRow,
}


def _parser(annotation: Any) -> Callable[[Any], Any] | None:
    """How a JSON value becomes the field's type: timestamps and decimals are sent as text."""
    kinds = typing.get_args(annotation) or (annotation,)
    if datetime in kinds:
        return datetime.fromisoformat
    if Decimal in kinds:
        return Decimal
    return None


_PARSERS = {
    row_type: {name: _parser(kind) for name, kind in typing.get_type_hints(row_type).items()}
    for row_type in TABLES.values()
}


def encode(batches: list[Batch]) -> bytes:
    """A record's payload (version 2)."""
    return orjson.dumps(
        [
            {
                table: {"fields": row_type._fields, "rows": [tuple(row) for row in found]}
                for table, row_type in TABLES.items()
                if (found := getattr(batch, table))
            }
            for batch in batches
        ],
        default=_text,
    )


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot journal a {type(value).__name__}")


def decode(payload: bytes) -> list[Batch]:
    """The Batches of a version 2 payload, rows rebuilt by column name."""
    return [_batch(item) for item in orjson.loads(payload)]


def _batch(item: dict) -> Batch:
    batch = Batch()
    for table, stored in item.items():
        row_type = TABLES.get(table)
        if row_type is None:
            raise ValueError(f"unknown table {table!r} in a journal record")
        position = {name: index for index, name in enumerate(stored["fields"])}
        parsers = _PARSERS[row_type]
        fields = [(position.get(name), parsers[name]) for name in row_type._fields]
        rows_out = getattr(batch, table)
        for values in stored["rows"]:
            row = []
            for index, parse in fields:
                value = None if index is None else values[index]
                row.append(parse(value) if parse is not None and value is not None else value)
            rows_out.append(row_type(*row))
    return batch


class _Version1(pickle.Unpickler):
    """Version 1 payloads: pickles of Batches, holding nothing but the row types, datetimes and
    decimals."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("katsuo.collect.rows", "Batch"),
        *(("katsuo.collect.rows", row_type.__name__) for row_type in TABLES.values()),
        ("datetime", "datetime"),
        ("datetime", "timezone"),
        ("datetime", "timedelta"),
        ("decimal", "Decimal"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in a journal record")
        return super().find_class(module, name)


def _decode_version1(payload: bytes) -> list[Batch]:
    return _Version1(io.BytesIO(payload)).load()


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
        return sorted(
            int(path.stem) for path in self.directory.glob(f"*{SUFFIX}") if path.stem.isdigit()
        )

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:08d}{SUFFIX}"

    def replay(self, applied: Position | None) -> Iterator[tuple[list[Batch], Position]]:
        """The records after `applied`, in order, each with the position after it. A record that
        cannot be decoded is logged and skipped, never a reason not to start."""
        for segment in self.segments():
            if applied is not None and segment < applied.segment:
                continue
            data = self._path(segment).read_bytes()
            decode_payload, start = _format(data)
            offset = applied.offset if applied is not None and segment == applied.segment else start
            while offset + HEADER.size <= len(data):
                length, checksum = HEADER.unpack_from(data, offset)
                payload = data[offset + HEADER.size : offset + HEADER.size + length]
                if len(payload) < length or zlib.crc32(payload) != checksum:
                    break  # cut short by a crash: never acknowledged
                offset += HEADER.size + length
                try:
                    batches = decode_payload(payload)
                except Exception:
                    log.exception(
                        "collect: the journal record ending at %s:%d cannot be read; "
                        "its hits are lost",
                        segment,
                        offset,
                    )
                    continue
                yield batches, Position(segment, offset)

    def open(self, applied: Position | None) -> None:
        """Start appending to a new segment after every existing one and after the applied
        position's (a torn tail of the last one stays behind it, unread)."""
        self._start_segment(max([applied.segment if applied else 0, *self.segments()]) + 1)

    def _start_segment(self, segment: int) -> None:
        self.close()
        self._segment = segment
        self._file = open(self._path(segment), "ab", buffering=0)  # noqa: SIM115 (kept open: the live segment)
        self._file.write(FORMAT_HEADER)
        os.fdatasync(self._file.fileno())
        self._size = len(FORMAT_HEADER)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new file's name is durable too
        finally:
            os.close(directory)

    def append(self, batches: list[Batch]) -> Position:
        """Write one record and return once it is on disk."""
        payload = encode(batches)
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


def _format(data: bytes) -> tuple[Callable[[bytes], list[Batch]], int]:
    """How a segment's records decode, and where they start."""
    if data.startswith(FORMAT_HEADER):
        return decode, len(FORMAT_HEADER)
    if FORMAT_HEADER.startswith(data):  # empty, or a header cut short: no record
        return decode, len(data)
    return _decode_version1, 0
