"""Chat message histories as serializable stores, one history per session.

A store is a ``Serializable`` (so a manifest names it) that keeps the messages of many
sessions. Its interface is small on purpose; a new backend implements three methods:

- ``get_messages(session_id) -> list[BaseMessage]``: the session's messages, oldest first
  (a new list; an unknown session has none);
- ``add_messages(session_id, messages)``: append, all or nothing;
- ``clear(session_id)``: forget the session.

The async twins (``aget_messages``, ``aadd_messages``, ``aclear``) run the sync methods
in a worker thread unless a store overrides them. ``store.session(session_id)`` is a
:class:`ChatSessionHistory`: LangChain's ``InMemoryChatMessageHistory`` API (``messages``,
``add_message``, ``add_messages``, ``aadd_messages``, ``clear``...) for one session.

:class:`InMemoryChatHistoryStore` keeps sessions in the process. :class:`SqliteChatHistoryStore`
keeps them in a SQLite file (stdlib ``sqlite3``, WAL mode, shared by threads and
processes): each message is a row of lc JSON in LangChain's dialect (so
``langchain_core.load.loads`` reads it as well), read back through the safe loader
(``LcJsonSerializer``), so a tampered row is a ``ManifestError``, never an object
of an unregistered class, and dicts shaped like lc nodes inside messages stay data.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import PrivateAttr, field_validator

from runwire.errors import ManifestError
from runwire.schema.messages import BaseMessage
from runwire.schema.serializable import FieldsEqual, Serializable
from runwire.schema.trust import TrustMark, UntrustedValueError, current_trust

if TYPE_CHECKING:
    from runwire.graph.checkpoint.serde import LcJsonSerializer

__all__ = [
    "SQLITE_SUFFIXES",
    "BaseChatHistoryStore",
    "ChatSessionHistory",
    "InMemoryChatHistoryStore",
    "SqliteChatHistoryStore",
]


def _check_messages(messages: Sequence[Any]) -> list[BaseMessage]:
    out = list(messages)
    for message in out:
        if not isinstance(message, BaseMessage):
            raise TypeError(
                f"a chat history holds messages, got {type(message).__name__}; "
                "convert it first (runwire.schema.coerce.convert_to_messages)"
            )
    return out


class BaseChatHistoryStore(FieldsEqual, Serializable, ABC):
    """The messages of many sessions; subclasses implement the three sync methods."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "history"]

    @abstractmethod
    def get_messages(self, session_id: str) -> list[BaseMessage]:
        """The session's messages, oldest first (a new list; none for a new session)."""

    @abstractmethod
    def add_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` to the session, all or nothing."""

    @abstractmethod
    def clear(self, session_id: str) -> None:
        """Delete the session's messages."""

    async def aget_messages(self, session_id: str) -> list[BaseMessage]:
        """Async :meth:`get_messages` (a worker thread unless overridden)."""
        from runwire.runtime.base import run_in_executor

        return await run_in_executor(None, self.get_messages, session_id)

    async def aadd_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        """Async :meth:`add_messages`."""
        from runwire.runtime.base import run_in_executor

        await run_in_executor(None, self.add_messages, session_id, list(messages))

    async def aclear(self, session_id: str) -> None:
        """Async :meth:`clear`."""
        from runwire.runtime.base import run_in_executor

        await run_in_executor(None, self.clear, session_id)

    def session(self, session_id: str) -> ChatSessionHistory:
        """One session's history, with LangChain's chat message history API."""
        return ChatSessionHistory(self, session_id)


class ChatSessionHistory:
    """One session of a store, as LangChain's ``BaseChatMessageHistory`` is used."""

    __slots__ = ("session_id", "store")

    def __init__(self, store: BaseChatHistoryStore, session_id: str) -> None:
        self.store = store
        self.session_id = session_id

    def __repr__(self) -> str:
        return f"ChatSessionHistory({type(self.store).__name__}, {self.session_id!r})"

    @property
    def messages(self) -> list[BaseMessage]:
        """The messages so far, oldest first (a copy)."""
        return self.store.get_messages(self.session_id)

    async def aget_messages(self) -> list[BaseMessage]:
        """Async :attr:`messages`."""
        return await self.store.aget_messages(self.session_id)

    def add_message(self, message: BaseMessage) -> None:
        """Append one message."""
        self.add_messages([message])

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append messages, all or nothing."""
        self.store.add_messages(self.session_id, _check_messages(messages))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Async :meth:`add_messages`."""
        await self.store.aadd_messages(self.session_id, _check_messages(messages))

    def add_user_message(self, message: str | BaseMessage) -> None:
        """Append a human message (a string becomes a ``HumanMessage``)."""
        from runwire.schema.messages import HumanMessage

        self.add_message(HumanMessage(message) if isinstance(message, str) else message)

    def add_ai_message(self, message: str | BaseMessage) -> None:
        """Append an AI message (a string becomes an ``AIMessage``)."""
        from runwire.schema.messages import AIMessage

        self.add_message(AIMessage(message) if isinstance(message, str) else message)

    def clear(self) -> None:
        """Delete this session's messages."""
        self.store.clear(self.session_id)

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await self.store.aclear(self.session_id)


class InMemoryChatHistoryStore(BaseChatHistoryStore):
    """Sessions kept in this process (lost when it exits); thread safe.

    Each object loaded from a file starts empty: contents are never written to the file.
    """

    _sessions: dict[str, list[BaseMessage]] = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> InMemoryChatHistoryStore:
        """A store with a copy of every session (and its own lock)."""
        clone = self.model_copy()
        with self._lock:
            sessions = {key: list(messages) for key, messages in self._sessions.items()}
        clone.__pydantic_private__ = {"_sessions": sessions, "_lock": threading.Lock()}
        return clone

    def get_messages(self, session_id: str) -> list[BaseMessage]:
        with self._lock:
            return list(self._sessions.get(session_id, ()))

    def add_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        checked = _check_messages(messages)
        with self._lock:
            self._sessions.setdefault(session_id, []).extend(checked)

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def session_ids(self) -> list[str]:
        """The sessions that have messages, in the order they were started."""
        with self._lock:
            return list(self._sessions)

    # in-process work never blocks: no thread hop
    async def aget_messages(self, session_id: str) -> list[BaseMessage]:
        return self.get_messages(session_id)

    async def aadd_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        self.add_messages(session_id, messages)

    async def aclear(self, session_id: str) -> None:
        self.clear(session_id)


SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
"""The file names an untrusted manifest may give a SQLite store."""
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def _check_table(value: str) -> str:
    """A table name safe to write into SQL (the stores' validator of ``table``)."""
    if not _TABLE.fullmatch(value):
        raise ValueError(
            f"table {value[:80]!r} must be letters, digits and '_' (not starting with a digit)"
        )
    return value


_UNTRUSTED_HINT = (
    "give a relative path such as chats/history.db (inside the working directory), or "
    "load your own file with trusted=True"
)


def _untrusted_path(path: str) -> Path:
    """The absolute file an untrusted manifest's ``path`` names, or UntrustedValueError."""
    parts = Path(path)
    if parts.is_absolute() or path.startswith("~") or ".." in parts.parts:
        raise UntrustedValueError(
            f"an untrusted manifest may not name the file {path!r}: a store's path must be "
            "relative, without '..' or '~'",
            _UNTRUSTED_HINT,
        )
    if parts.suffix.lower() not in SQLITE_SUFFIXES:
        raise UntrustedValueError(
            f"an untrusted manifest may only name a SQLite file ending in "
            f"{', '.join(SQLITE_SUFFIXES)}, not {path!r}",
            _UNTRUSTED_HINT,
        )
    base = Path.cwd().resolve()
    target = (base / parts).resolve()
    _check_inside(target, base, path)
    return target


def _check_inside(target: Path, base: Path, shown: str) -> None:
    """Refuse a file that leaves ``base`` (through a symlink) or is not a regular file."""
    real = target.resolve()
    if not real.is_relative_to(base):
        raise UntrustedValueError(
            f"the SQLite file {shown!r} leads outside the working directory (a symlink?)",
            _UNTRUSTED_HINT,
        )
    if real.exists() and not real.is_file():
        raise UntrustedValueError(f"{shown!r} is not a regular file", "name a SQLite database file")


class SqliteChatHistoryStore(BaseChatHistoryStore):
    """Sessions in a SQLite file, one row per message in lc JSON (LangChain's dialect).

    Shared safely by threads (one connection behind a lock) and processes (WAL mode,
    waits up to ``timeout`` seconds for another writer). The file and its table are
    created on first use, never when the manifest is loaded.

    From an untrusted manifest, ``path`` must be relative (no ``..``, no ``~``), end in
    ``.db``, ``.sqlite`` or ``.sqlite3`` and stay inside the working directory the load
    ran in, symlinks resolved (checked again when the file is opened); ``":memory:"`` is
    allowed. Trusted files and Python code may name any path.
    """

    path: str
    """The database file; relative paths are taken from the working directory at load."""
    table: str = "runwire_messages"
    """The table that holds the messages (letters, digits and ``_``)."""
    timeout: float = 5.0
    """Seconds to wait for a lock held by another connection."""

    _file: str = PrivateAttr(default="")
    _base: str = PrivateAttr(default="")
    """The working directory an untrusted path must stay in ("" when trusted)."""
    _trust: TrustMark = PrivateAttr(default_factory=TrustMark)
    _conn: sqlite3.Connection | None = PrivateAttr(default=None)
    _pid: int = PrivateAttr(default=0)
    """The process that opened ``_conn``: a forked child opens its own."""
    _lock: Any = PrivateAttr(default_factory=threading.RLock)

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        if not value or "\x00" in value:
            raise ValueError("path must be a non-empty file name")
        if value != ":memory:" and not current_trust().trusted:
            _untrusted_path(value)
        return value

    @field_validator("table")
    @classmethod
    def _safe_table(cls, value: str) -> str:
        return _check_table(value)

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if not 0 <= value <= 600:
            raise ValueError("timeout must be between 0 and 600 seconds")
        return value

    def model_post_init(self, context: Any, /) -> None:
        if self.path == ":memory:":
            self._file = ":memory:"
        elif self._trust.trust.trusted:
            self._file = os.path.abspath(os.path.expanduser(self.path))
        else:
            self._file = str(_untrusted_path(self.path))
            self._base = str(Path.cwd().resolve())

    def __repr__(self) -> str:
        return f"SqliteChatHistoryStore(path={self.path!r}, table={self.table!r})"

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> SqliteChatHistoryStore:
        """The same file and trust, with a connection and lock of its own."""
        clone = self.model_copy()
        private = dict(self.__pydantic_private__ or {})
        clone.__pydantic_private__ = {**private, "_conn": None, "_lock": threading.RLock()}
        return clone

    # -- the connection ------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = self._conn
        if conn is not None and self._pid == os.getpid():
            return conn
        if self._base:  # untrusted: the file may have become a symlink since the load
            _check_inside(Path(self._file), Path(self._base), self.path)
        try:
            conn = sqlite3.connect(
                self._file, timeout=self.timeout, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise ManifestError(
                f"cannot open the SQLite file {self.path!r} ({exc})",
                hint="check that its folder exists and is writable",
            ) from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("  # table: checked identifier
                "id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, "
                "message TEXT NOT NULL)"
            )
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table}_session ON {self.table} (session_id, id)"
            )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ManifestError(
                f"{self.path!r} is not a usable SQLite database ({exc})",
                hint="name a new file, or a database this store created",
            ) from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        """Close the connection (the next call opens it again)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- the interface -------------------------------------------------------------------
    def get_messages(self, session_id: str) -> list[BaseMessage]:
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    f"SELECT id, message FROM {self.table} WHERE session_id = ? ORDER BY id",
                    (str(session_id),),
                )
                .fetchall()
            )
        return [_read_row(row_id, raw, session_id) for row_id, raw in rows]

    def add_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        rows = [(str(session_id), _write_row(m)) for m in _check_messages(messages)]
        if not rows:
            return
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    f"INSERT INTO {self.table} (session_id, message) VALUES (?, ?)", rows
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def clear(self, session_id: str) -> None:
        with self._lock:
            self._connect().execute(
                f"DELETE FROM {self.table} WHERE session_id = ?", (str(session_id),)
            )

    def session_ids(self) -> list[str]:
        """The sessions that have messages, in the order they were started."""
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    f"SELECT session_id FROM {self.table} GROUP BY session_id ORDER BY MIN(id)"
                )
                .fetchall()
            )
        return [row[0] for row in rows]


_SERDE: list[LcJsonSerializer] = []
_DAMAGED = (
    "the history was edited or damaged (runwire reads only the lc JSON messages it wrote); "
    "clear the session or restore the file"
)


def _serde() -> LcJsonSerializer:
    """The checkpoint serializer (messages and documents only, untrusted, no secrets)."""
    if not _SERDE:
        from runwire.graph.checkpoint.serde import LcJsonSerializer

        _SERDE.append(LcJsonSerializer())
    return _SERDE[0]


def _write_row(message: BaseMessage) -> str:
    """A message as one row: lc JSON in LangChain's dialect (``langchain_core.load.loads``
    reads it too), refused now if it would not read back (an object LangChain cannot
    serialize in ``artifact``, say)."""
    from runwire.errors import NotSerializableError
    from runwire.schema.dump import dumps

    text = dumps(message, dialect="langchain")
    try:
        _serde().loads(text.encode())
    except ManifestError as exc:
        raise NotSerializableError(
            f"a {type(message).__name__} that would not read back cannot be stored: {exc.message}",
            hint="keep message fields to JSON values (and messages or documents)",
        ) from None
    return text


def _read_row(row_id: int, raw: Any, session_id: str) -> BaseMessage:
    """One stored message, through the safe loader; anything else is a ManifestError."""
    data = raw.encode() if isinstance(raw, str) else raw
    if not isinstance(data, bytes):
        raise ManifestError(
            f"stored message {row_id} of session {str(session_id)[:80]!r} is not text",
            hint=_DAMAGED,
        )
    try:
        message = _serde().loads(data)
    except ManifestError as exc:
        raise ManifestError(
            f"stored message {row_id} of session {str(session_id)[:80]!r}: {exc.message}",
            path=exc.path,
            hint=_DAMAGED,
        ) from None
    if not isinstance(message, BaseMessage):
        raise ManifestError(
            f"stored message {row_id} of session {str(session_id)[:80]!r} is a "
            f"{type(message).__name__}, not a message",
            hint=_DAMAGED,
        )
    return message
