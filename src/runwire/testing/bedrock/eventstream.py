"""The ``application/vnd.amazon.eventstream`` framing, server side (encoding only).

A message is::

    prelude   total length (u32) | headers length (u32) | CRC32 of those 8 bytes
    headers   name length (u8) | name | value type (u8, 7 = string) | length (u16) | value
    payload   the bytes of the event (JSON here)
    trailer   CRC32 of everything before it (u32); integers are big-endian
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

__all__ = ["encode_error", "encode_event", "encode_exception", "encode_message"]

_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode("utf-8"), value.encode("utf-8")
    if len(raw_name) > 255 or len(raw_value) > 65535:
        raise ValueError(f"event stream header {name!r} is too long")
    return (
        bytes((len(raw_name),))
        + raw_name
        + bytes((_STRING,))
        + struct.pack(">H", len(raw_value))
        + raw_value
    )


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One framed message with string ``headers`` and raw ``payload``."""
    raw_headers = b"".join(_header(name, value) for name, value in headers.items())
    total = _PRELUDE.size + _CRC.size + len(raw_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + raw_headers + payload
    return head + _CRC.pack(zlib.crc32(head))


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_event(event_type: str, payload: Any) -> bytes:
    """An ``event`` message: ``payload`` (a JSON value) under ``:event-type``."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_message(headers, _json(payload))


def encode_exception(exception_type: str, message: str) -> bytes:
    """A modelled ``exception`` message (``exception_type`` is the stream member name,
    e.g. ``throttlingException``); botocore raises it as an ``EventStreamError``."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))


def encode_error(code: str, message: str) -> bytes:
    """An unmodelled ``error`` message (``:error-code`` / ``:error-message`` headers)."""
    headers = {":error-code": code, ":error-message": message, ":message-type": "error"}
    return encode_message(headers, b"")
