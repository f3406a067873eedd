"""The emulator's data: one keyspace per database number, holding strings and hashes,
with expiry and a byte budget, and watchers (the search indexes) told of every change.

Expired keys are removed lazily on access and by a bounded sweep on writes, as Redis
does; the byte budget counts keys, fields and values, and a write past it is refused
with Redis's out-of-memory error instead of growing without end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from runwire.testing.memorydb.resp import ReplyError

__all__ = ["WRONGTYPE", "Keyspace", "glob_to_regex"]

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
OOM = "OOM command not allowed when used memory > 'maxmemory'."

Value = bytes | dict[bytes, bytes]
Watcher = Callable[[bytes, "dict[bytes, bytes] | None"], None]


def _size(key: bytes, value: Value) -> int:
    if isinstance(value, bytes):
        return len(key) + len(value) + 16
    return len(key) + 16 + sum(len(f) + len(v) + 16 for f, v in value.items())


def glob_to_regex(pattern: bytes) -> re.Pattern[bytes]:
    """Redis's glob (``*``, ``?``, ``[abc]``, ``[^a-z]``, ``\\x``) as an anchored regex."""
    out = bytearray()
    i = 0
    while i < len(pattern):
        char = pattern[i : i + 1]
        if char == b"\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1 : i + 2])
            i += 2
            continue
        if char == b"*":
            out += b".*"
        elif char == b"?":
            out += b"."
        elif char == b"[":
            end = pattern.find(b"]", i + 1)
            if end < 0:
                out += b"\\["
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith(b"^")
                if negate:
                    body = body[1:]
                escaped = re.escape(body).replace(b"\\-", b"-")
                out += b"[" + (b"^" if negate else b"") + escaped + b"]"
                i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(bytes(out) + b"\\Z", re.DOTALL)


class Keyspace:
    """One database: keys to strings (bytes) or hashes (dicts of bytes)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._data: dict[bytes, Value] = {}
        self._expires: dict[bytes, float] = {}
        self.watchers: list[Watcher] = []

    # -- reading ------------------------------------------------------------------------
    def _alive(self, key: bytes) -> bool:
        deadline = self._expires.get(key)
        if deadline is not None and deadline <= time.monotonic():
            self._remove(key)
            return False
        return key in self._data

    def get(self, key: bytes) -> Value | None:
        """The value at ``key`` (None when absent or expired)."""
        return self._data.get(key) if self._alive(key) else None

    def hash(self, key: bytes) -> dict[bytes, bytes] | None:
        """The hash at ``key`` (None when absent); another type is a WRONGTYPE error."""
        value = self.get(key)
        if value is not None and not isinstance(value, dict):
            raise ReplyError(WRONGTYPE)
        return value

    def string(self, key: bytes) -> bytes | None:
        """The string at ``key`` (None when absent); another type is a WRONGTYPE error."""
        value = self.get(key)
        if value is not None and not isinstance(value, bytes):
            raise ReplyError(WRONGTYPE)
        return value

    def live_keys(self) -> Iterator[bytes]:
        """Live keys, in insertion order (a snapshot: safe to change the keyspace meanwhile)."""
        for key in list(self._data):
            if self._alive(key):
                yield key

    def __len__(self) -> int:
        return len(self._data)

    def ttl(self, key: bytes) -> float | None:
        """Seconds left before ``key`` expires (None: no expiry)."""
        deadline = self._expires.get(key)
        return None if deadline is None else deadline - time.monotonic()

    # -- writing ------------------------------------------------------------------------
    def _charge(self, before: int, after: int) -> None:
        if after > before and self.used + after - before > self.max_bytes:
            raise ReplyError(OOM)

    def put(self, key: bytes, value: Value, *, keep_ttl: bool = False) -> None:
        """Store ``value`` at ``key`` (a hash is stored as given: callers pass a new dict)."""
        old = self.get(key)
        before = _size(key, old) if old is not None else 0
        after = _size(key, value)
        self._charge(before, after)
        self._data[key] = value
        self.used += after - before
        if not keep_ttl:
            self._expires.pop(key, None)
        self._notify(key)

    def update_hash(self, key: bytes, fields: dict[bytes, bytes]) -> int:
        """Set fields of the hash at ``key`` (created if absent); the number of new fields."""
        current = self.hash(key)
        merged = dict(current) if current is not None else {}
        added = sum(1 for f in fields if f not in merged)
        merged.update(fields)
        self.put(key, merged, keep_ttl=True)
        return added

    def delete_fields(self, key: bytes, fields: list[bytes]) -> int:
        """Remove fields of a hash (the key goes with its last field); how many were removed."""
        current = self.hash(key)
        if current is None:
            return 0
        remaining = {f: v for f, v in current.items() if f not in fields}
        removed = len(current) - len(remaining)
        if not remaining:
            self.delete(key)
        elif removed:
            self.put(key, remaining, keep_ttl=True)
        return removed

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; whether it existed."""
        if not self._alive(key):
            return False
        self._remove(key)
        return True

    def _remove(self, key: bytes) -> None:
        value = self._data.pop(key, None)
        self._expires.pop(key, None)
        if value is not None:
            self.used -= _size(key, value)
            self._notify(key)

    def expire(self, key: bytes, seconds: float) -> bool:
        """Set a time to live (0 or less deletes the key); whether the key exists."""
        if not self._alive(key):
            return False
        if seconds <= 0:
            self._remove(key)
        else:
            self._expires[key] = time.monotonic() + seconds
        return True

    def persist(self, key: bytes) -> bool:
        """Drop the expiry of ``key``; whether it had one."""
        return self._alive(key) and self._expires.pop(key, None) is not None

    def flush(self) -> None:
        """Remove every key."""
        for key in list(self._data):
            self._remove(key)

    def sweep(self, budget: int = 20) -> None:
        """Remove up to ``budget`` expired keys (called on writes: bounded work)."""
        now = time.monotonic()
        for key, deadline in list(self._expires.items())[:budget]:
            if deadline <= now:
                self._remove(key)

    def _notify(self, key: bytes) -> None:
        if self.watchers:
            value = self._data.get(key)
            fields = value if isinstance(value, dict) else None
            for watcher in self.watchers:
                watcher(key, fields)
