"""The Redis serialization protocol (RESP2 and RESP3): a bounded request reader and a
reply encoder.

Requests are arrays of bulk strings (what every client sends) or inline commands (a
line of words, as typed into telnet). The reader never buffers more than one
command's worth of bytes within the limits: a bulk length, an element count or an
inline line over its limit is refused with Redis's own protocol error before its
bytes are read, and the connection is then closed, as Redis does.

Replies are built from Python values (see :func:`encode`) and written for the
connection's protocol version: maps, doubles, nulls and sets are RESP3 types that
RESP2 writes as flat arrays, bulk strings and null bulks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Limits",
    "ProtocolError",
    "Reader",
    "ReplyError",
    "Simple",
    "encode",
]


class ProtocolError(Exception):
    """A malformed or over-limit request: the reply is an error, then the connection closes."""


class ReplyError(Exception):
    """A command failed: the reply is this error (``ERR ...``, ``WRONGTYPE ...``), the
    connection stays open."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message if message.split(" ", 1)[0].isupper() else f"ERR {message}"


class Simple(str):
    """A simple-string reply (``+OK``), as opposed to a bulk string."""


@dataclass(frozen=True)
class Limits:
    """What one connection may send: bytes of one bulk string, elements of one command,
    bytes of one whole command, bytes of an inline command line."""

    max_bulk: int = 8 * 1024 * 1024
    max_args: int = 1024 * 1024
    max_command: int = 64 * 1024 * 1024
    max_inline: int = 64 * 1024


class Reader:
    """Incremental parser: ``feed(data)`` then ``commands()`` yields complete commands.

    State is kept between feeds, so a command split over many reads is parsed once its
    last byte arrives; the buffer holds at most the unparsed part of one command.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._buf = bytearray()
        self._pos = 0
        self._want_args: int | None = None
        self._args: list[bytes] = []
        self._command_bytes = 0

    def feed(self, data: bytes) -> None:
        """Add bytes read from the socket."""
        self._buf += data
        pending = len(self._buf) - self._pos + self._command_bytes
        if pending > self.limits.max_command + self.limits.max_bulk:
            raise ProtocolError("Protocol error: command too big")

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\r\n", self._pos)
        if end < 0:
            limit = self.limits.max_inline
            if len(self._buf) - self._pos > limit:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        if end - self._pos > self.limits.max_inline:
            raise ProtocolError("Protocol error: too big inline request")
        line = bytes(self._buf[self._pos : end])
        self._pos = end + 2
        return line

    def _compact(self) -> None:
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0

    def commands(self) -> list[list[bytes]]:
        """The commands completed by the bytes fed so far (possibly none)."""
        done: list[list[bytes]] = []
        while True:
            command = self._next()
            if command is None:
                break
            if command:
                done.append(command)
        self._compact()
        return done

    def _next(self) -> list[bytes] | None:
        if self._want_args is None:
            if self._pos >= len(self._buf):
                return None
            if self._buf[self._pos] != ord("*"):
                line = self._line()
                if line is None:
                    return None
                return _inline(line)
            start = self._pos
            line = self._line()
            if line is None:
                return None
            count = _int(line[1:], "Protocol error: invalid multibulk length")
            if count > self.limits.max_args:
                raise ProtocolError("Protocol error: invalid multibulk length")
            if count <= 0:
                return []
            self._want_args = count
            self._args = []
            self._command_bytes = self._pos - start
        while len(self._args) < self._want_args:
            if self._pos >= len(self._buf):
                return None
            if self._buf[self._pos] != ord("$"):
                got = chr(self._buf[self._pos])
                raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
            mark = self._pos
            line = self._line()
            if line is None:
                return None
            size = _int(line[1:], "Protocol error: invalid bulk length")
            if size < 0 or size > self.limits.max_bulk:
                raise ProtocolError("Protocol error: invalid bulk length")
            if self._command_bytes + size > self.limits.max_command:
                raise ProtocolError("Protocol error: command too big")
            if len(self._buf) - self._pos < size + 2:
                self._pos = mark  # the header is read again with the whole payload
                return None
            value = bytes(self._buf[self._pos : self._pos + size])
            if self._buf[self._pos + size : self._pos + size + 2] != b"\r\n":
                raise ProtocolError("Protocol error: invalid bulk length")
            self._pos += size + 2
            self._command_bytes += size + len(line) + 4
            self._args.append(value)
        args, self._args, self._want_args, self._command_bytes = self._args, [], None, 0
        return args


def _int(text: bytes, error: str) -> int:
    if not text or len(text) > 20:
        raise ProtocolError(error)
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(error) from None


def _inline(line: bytes) -> list[bytes]:
    """An inline command: words split on whitespace, double quotes grouping words."""
    words: list[bytes] = []
    current = bytearray()
    quoted = False
    in_word = False
    for byte in line:
        char = bytes((byte,))
        if char == b'"':
            quoted = not quoted
            in_word = True
        elif char.isspace() and not quoted:
            if in_word:
                words.append(bytes(current))
                current.clear()
                in_word = False
        else:
            current += char
            in_word = True
    if quoted:
        raise ProtocolError("Protocol error: unbalanced quotes in request")
    if in_word:
        words.append(bytes(current))
    return words


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _double(value: float) -> bytes:
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    if math.isnan(value):
        return b"nan"
    return repr(value).encode()


def encode(value: object, proto: int = 2) -> bytes:
    """One reply in RESP ``proto``: ``Simple`` -> simple string, ``str``/``bytes`` ->
    bulk string, ``int``/``bool`` -> integer, ``float`` -> double (bulk in RESP2),
    ``None`` -> null, ``dict`` -> map, ``list``/``tuple`` -> array, ``set`` -> set,
    ``ReplyError`` -> error."""
    out: list[bytes] = []
    _encode(value, proto, out)
    return b"".join(out)


def _encode(value: object, proto: int, out: list[bytes]) -> None:
    if isinstance(value, Simple):
        out.append(b"+%s\r\n" % value.encode())
    elif isinstance(value, bytes):
        out.append(_bulk(value))
    elif isinstance(value, str):
        out.append(_bulk(value.encode()))
    elif isinstance(value, bool):
        out.append((b"#t\r\n" if value else b"#f\r\n") if proto == 3 else b":%d\r\n" % value)
    elif isinstance(value, int):
        out.append(b":%d\r\n" % value)
    elif isinstance(value, float):
        text = _double(value)
        out.append(b",%s\r\n" % text if proto == 3 else _bulk(text))
    elif value is None:
        out.append(b"_\r\n" if proto == 3 else b"$-1\r\n")
    elif isinstance(value, ReplyError):
        out.append(b"-%s\r\n" % value.message.replace("\r", " ").replace("\n", " ").encode())
    elif isinstance(value, dict):
        if proto == 3:
            out.append(b"%%%d\r\n" % len(value))
        else:
            out.append(b"*%d\r\n" % (2 * len(value)))
        for key, item in value.items():
            _encode(key, proto, out)
            _encode(item, proto, out)
    elif isinstance(value, set | frozenset):
        out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(value))
        for item in sorted(value):
            _encode(item, proto, out)
    elif isinstance(value, list | tuple):
        out.append(b"*%d\r\n" % len(value))
        for item in value:
            _encode(item, proto, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as a RESP reply")
