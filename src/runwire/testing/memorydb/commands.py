"""The command table: name -> (handler, arity), and the per-connection session.

Arity follows Redis: a positive number is the exact argument count including the
command name, a negative one the minimum. Errors are worded as Redis words them
(``ERR unknown command 'X', with args beginning with: ...``, ``ERR wrong number of
arguments for 'x' command``, ``NOAUTH Authentication required.``, ``WRONGTYPE ...``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runwire.testing.memorydb.keyspace import Keyspace, glob_to_regex
from runwire.testing.memorydb.resp import ReplyError, Simple

if TYPE_CHECKING:
    from runwire.testing.memorydb.emulator import Store

__all__ = ["COMMANDS", "Session", "execute"]

OK = Simple("OK")
MAX_SCAN_COUNT = 10_000


@dataclass
class Session:
    """One connection's state."""

    store: Store
    proto: int = 2
    db: int = 0
    authenticated: bool = False
    name: bytes | None = None
    queued: list[list[bytes]] | None = None
    closing: bool = False

    @property
    def keyspace(self) -> Keyspace:
        return self.store.databases[self.db]


Handler = Callable[[Session, list[bytes]], Any]


def _text(arg: bytes) -> str:
    return arg.decode("utf-8", "replace")


def _integer(arg: bytes) -> int:
    try:
        return int(arg)
    except ValueError:
        raise ReplyError("value is not an integer or out of range") from None


# -- connection -------------------------------------------------------------------------
def _ping(s: Session, a: list[bytes]) -> Any:
    return a[0] if a else Simple("PONG")


def _check_password(s: Session, user: bytes | None, password: bytes) -> None:
    expected = s.store.password
    if expected is None:
        raise ReplyError(
            "AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?"
        )
    user_ok = user is None or user == s.store.username.encode()
    if not (user_ok and hmac.compare_digest(password, expected.encode())):
        raise ReplyError("WRONGPASS invalid username-password pair or user is disabled.")
    s.authenticated = True


def _auth(s: Session, a: list[bytes]) -> Any:
    if len(a) == 1:
        _check_password(s, None, a[0])
    elif len(a) == 2:
        _check_password(s, a[0], a[1])
    else:
        raise ReplyError("syntax error")
    return OK


def _hello(s: Session, a: list[bytes]) -> Any:
    proto = s.proto
    i = 0
    if a:
        try:
            proto = int(a[0])
        except ValueError:
            raise ReplyError("Protocol version is not an integer or out of range") from None
        if proto not in (2, 3):
            raise ReplyError("NOPROTO unsupported protocol version")
        i = 1
    while i < len(a):
        option = a[i].upper()
        if option == b"AUTH" and i + 2 < len(a):
            _check_password(s, a[i + 1], a[i + 2])
            i += 3
        elif option == b"SETNAME" and i + 1 < len(a):
            s.name = a[i + 1]
            i += 2
        else:
            raise ReplyError(f"Syntax error in HELLO option '{_text(a[i])}'")
    if s.store.password is not None and not s.authenticated:
        raise ReplyError(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
            "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client "
            "and select the RESP protocol version at the same time"
        )
    s.proto = proto
    return {
        "server": "redis",
        "version": "7.2.0",
        "proto": proto,
        "id": 1,
        "mode": "standalone",
        "role": "master",
        "modules": [],
    }


def _select(s: Session, a: list[bytes]) -> Any:
    db = _integer(a[0])
    if not 0 <= db < len(s.store.databases):
        raise ReplyError("DB index is out of range")
    s.db = db
    return OK


def _client(s: Session, a: list[bytes]) -> Any:
    sub = a[0].upper()
    if sub == b"SETNAME" and len(a) == 2:
        s.name = a[1]
        return OK
    if sub == b"GETNAME":
        return s.name
    if sub == b"SETINFO" and len(a) == 3:
        return OK
    if sub == b"ID":
        return 1
    raise ReplyError(f"unknown subcommand '{_text(a[0])}'. Try CLIENT HELP.")


def _quit(s: Session, a: list[bytes]) -> Any:
    s.closing = True
    return OK


def _multi(s: Session, a: list[bytes]) -> Any:
    if s.queued is not None:
        raise ReplyError("MULTI calls can not be nested")
    s.queued = []
    return OK


def _exec(s: Session, a: list[bytes]) -> Any:
    if s.queued is None:
        raise ReplyError("EXEC without MULTI")
    queued, s.queued = s.queued, None
    return [execute(s, command) for command in queued]


def _discard(s: Session, a: list[bytes]) -> Any:
    if s.queued is None:
        raise ReplyError("DISCARD without MULTI")
    s.queued = None
    return OK


# -- keys and strings ---------------------------------------------------------------------
def _del(s: Session, a: list[bytes]) -> Any:
    return sum(s.keyspace.delete(k) for k in a)


def _exists(s: Session, a: list[bytes]) -> Any:
    return sum(s.keyspace.get(k) is not None for k in a)


def _type(s: Session, a: list[bytes]) -> Any:
    value = s.keyspace.get(a[0])
    kind = "none" if value is None else "hash" if isinstance(value, dict) else "string"
    return Simple(kind)


def _keys(s: Session, a: list[bytes]) -> Any:
    pattern = glob_to_regex(a[0])
    return [k for k in s.keyspace.live_keys() if pattern.match(k)]


def _scan(s: Session, a: list[bytes]) -> Any:
    cursor = _integer(a[0])
    count, pattern, kind = 10, None, None
    i = 1
    while i < len(a):
        option = a[i].upper()
        if i + 1 >= len(a):
            raise ReplyError("syntax error")
        if option == b"COUNT":
            count = _integer(a[i + 1])
            if count < 1:
                raise ReplyError("syntax error")
        elif option == b"MATCH":
            pattern = glob_to_regex(a[i + 1])
        elif option == b"TYPE":
            kind = a[i + 1].lower()
        else:
            raise ReplyError("syntax error")
        i += 2
    count = min(count, MAX_SCAN_COUNT)
    keys = list(s.keyspace.live_keys())
    window = keys[cursor : cursor + count]
    following = cursor + count if cursor + count < len(keys) else 0
    found = []
    for key in window:
        value = s.keyspace.get(key)
        if value is None or (pattern is not None and not pattern.match(key)):
            continue
        if kind is not None and kind != (b"hash" if isinstance(value, dict) else b"string"):
            continue
        found.append(key)
    return [str(following), found]


def _expire(s: Session, a: list[bytes], scale: float = 1.0) -> Any:
    return int(s.keyspace.expire(a[0], _integer(a[1]) * scale))


def _ttl(s: Session, a: list[bytes], scale: float = 1.0) -> Any:
    if s.keyspace.get(a[0]) is None:
        return -2
    left = s.keyspace.ttl(a[0])
    return -1 if left is None else max(0, round(left * scale))


def _get(s: Session, a: list[bytes]) -> Any:
    return s.keyspace.string(a[0])


def _set(s: Session, a: list[bytes]) -> Any:
    key, value = a[0], a[1]
    ttl: float | None = None
    nx = xx = False
    i = 2
    while i < len(a):
        option = a[i].upper()
        if option in (b"EX", b"PX") and i + 1 < len(a):
            amount = _integer(a[i + 1])
            if amount <= 0:
                raise ReplyError("invalid expire time in 'set' command")
            ttl = amount if option == b"EX" else amount / 1000
            i += 2
        elif option in (b"NX", b"XX"):
            nx, xx = nx or option == b"NX", xx or option == b"XX"
            i += 1
        else:
            raise ReplyError("syntax error")
    exists = s.keyspace.get(key) is not None
    if (nx and exists) or (xx and not exists):
        return None
    s.keyspace.put(key, value)
    if ttl is not None:
        s.keyspace.expire(key, ttl)
    return OK


def _flushdb(s: Session, a: list[bytes]) -> Any:
    s.keyspace.flush()
    return OK


def _flushall(s: Session, a: list[bytes]) -> Any:
    for keyspace in s.store.databases:
        keyspace.flush()
    return OK


def _dbsize(s: Session, a: list[bytes]) -> Any:
    return sum(1 for _ in s.keyspace.live_keys())


# -- hashes -------------------------------------------------------------------------------
def _hset(s: Session, a: list[bytes]) -> Any:
    if len(a) % 2 == 0:
        raise ReplyError("wrong number of arguments for 'hset' command")
    pairs = a[1:]
    return s.keyspace.update_hash(a[0], dict(zip(pairs[::2], pairs[1::2], strict=True)))


def _hmset(s: Session, a: list[bytes]) -> Any:
    _hset(s, a)
    return OK


def _hget(s: Session, a: list[bytes]) -> Any:
    return (s.keyspace.hash(a[0]) or {}).get(a[1])


def _hmget(s: Session, a: list[bytes]) -> Any:
    fields = s.keyspace.hash(a[0]) or {}
    return [fields.get(f) for f in a[1:]]


def _hgetall(s: Session, a: list[bytes]) -> Any:
    return dict(s.keyspace.hash(a[0]) or {})


def _hdel(s: Session, a: list[bytes]) -> Any:
    return s.keyspace.delete_fields(a[0], a[1:])


def _hexists(s: Session, a: list[bytes]) -> Any:
    return int(a[1] in (s.keyspace.hash(a[0]) or {}))


def _hkeys(s: Session, a: list[bytes]) -> Any:
    return list(s.keyspace.hash(a[0]) or {})


def _hlen(s: Session, a: list[bytes]) -> Any:
    return len(s.keyspace.hash(a[0]) or {})


# -- search -------------------------------------------------------------------------------
def _search_db(s: Session) -> None:
    if s.db != 0:
        raise ReplyError("Cannot create index on db != 0")


def _ft(method: str) -> Handler:
    def handler(s: Session, a: list[bytes]) -> Any:
        _search_db(s)
        engine = s.store.search
        if method == "search":
            return engine.search(a, s.proto)
        return getattr(engine, method)(a)

    return handler


COMMANDS: dict[bytes, tuple[Handler, int]] = {
    b"PING": (_ping, -1),
    b"ECHO": (lambda s, a: a[0], 2),
    b"AUTH": (_auth, -2),
    b"HELLO": (_hello, -1),
    b"SELECT": (_select, 2),
    b"CLIENT": (_client, -2),
    b"QUIT": (_quit, -1),
    b"MULTI": (_multi, 1),
    b"EXEC": (_exec, 1),
    b"DISCARD": (_discard, 1),
    b"DEL": (_del, -2),
    b"UNLINK": (_del, -2),
    b"EXISTS": (_exists, -2),
    b"TYPE": (_type, 2),
    b"KEYS": (_keys, 2),
    b"SCAN": (_scan, -2),
    b"EXPIRE": (_expire, 3),
    b"PEXPIRE": (lambda s, a: _expire(s, a, 0.001), 3),
    b"TTL": (_ttl, 2),
    b"PTTL": (lambda s, a: _ttl(s, a, 1000.0), 2),
    b"PERSIST": (lambda s, a: int(s.keyspace.persist(a[0])), 2),
    b"GET": (_get, 2),
    b"SET": (_set, -3),
    b"FLUSHDB": (_flushdb, -1),
    b"FLUSHALL": (_flushall, -1),
    b"DBSIZE": (_dbsize, 1),
    b"HSET": (_hset, -4),
    b"HMSET": (_hmset, -4),
    b"HGET": (_hget, 3),
    b"HMGET": (_hmget, -3),
    b"HGETALL": (_hgetall, 2),
    b"HDEL": (_hdel, -3),
    b"HEXISTS": (_hexists, 3),
    b"HKEYS": (_hkeys, 2),
    b"HLEN": (_hlen, 2),
    b"FT.CREATE": (_ft("create"), -2),
    b"FT.SEARCH": (_ft("search"), -3),
    b"FT.INFO": (_ft("info"), 2),
    b"FT.DROPINDEX": (_ft("drop"), -2),
    b"FT._LIST": (_ft("list"), 1),
}
"""Every command the emulator answers."""

_BEFORE_AUTH = frozenset((b"AUTH", b"HELLO", b"QUIT"))
_NOT_QUEUED = frozenset((b"MULTI", b"EXEC", b"DISCARD", b"QUIT"))


def _unknown(command: list[bytes]) -> ReplyError:
    shown = " ".join(f"'{_text(a[:64])}'" for a in command[1:4])
    return ReplyError(
        f"unknown command '{_text(command[0][:64])}', with args beginning with: {shown}"
        if shown
        else f"unknown command '{_text(command[0][:64])}', with args beginning with: "
    )


def execute(s: Session, command: list[bytes]) -> Any:
    """Run one command; the reply value (a ``ReplyError`` for a failure)."""
    name = command[0].upper()
    entry = COMMANDS.get(name)
    if s.store.password is not None and not s.authenticated and name not in _BEFORE_AUTH:
        return ReplyError("NOAUTH Authentication required.")
    if entry is None:
        if s.queued is not None:
            s.queued = None
        return _unknown(command)
    handler, arity = entry
    if (arity > 0 and len(command) != arity) or (arity < 0 and len(command) < -arity):
        return ReplyError(f"wrong number of arguments for '{_text(name).lower()}' command")
    if s.queued is not None and name not in _NOT_QUEUED:
        s.queued.append(command)
        return Simple("QUEUED")
    try:
        with s.store.lock:
            s.store.counts[name] = s.store.counts.get(name, 0) + 1
            s.keyspace.sweep()
            return handler(s, command[1:])
    except ReplyError as exc:
        return exc
