"""``PostgresChatHistoryStore``: chat histories in PostgreSQL, shared by every replica.

The same rows as :class:`~runwire.runtime.history_stores.SqliteChatHistoryStore`: one
row per message, lc JSON in LangChain's dialect, read back through the safe loader
(a tampered row is a ``ManifestError``). The DSN is a secret field (``dsn: !secret
PG_DSN``; from Python, the ``PG_DSN`` environment variable by default, never for an
untrusted manifest): it is written to manifests as a secret node, never as its value,
and masked in every error. The table is created on first use (never at load), under an
advisory lock so replicas starting together create it once; appends to one session
are serialized (a session-scoped transaction lock), so each ``add_messages`` batch
stays contiguous and in order. Connections come from a small psycopg pool (the
``postgres`` extra), opened on first use and again in a forked child.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field, PrivateAttr, SecretStr, field_validator

from runwire.runtime.history_stores import (
    BaseChatHistoryStore,
    _check_messages,
    _check_table,
    _read_row,
    _write_row,
)
from runwire.schema.messages import BaseMessage
from runwire.schema.trust import current_trust

__all__ = ["PostgresChatHistoryStore"]


def _env_dsn() -> SecretStr | None:
    """``PG_DSN`` from the environment, for trusted code only (it is ambient)."""
    if not current_trust().trusted:
        return None
    value = os.environ.get("PG_DSN")
    return SecretStr(value) if value else None


class PostgresChatHistoryStore(BaseChatHistoryStore):
    """Sessions in a PostgreSQL table, one row per message in lc JSON (LangChain's dialect).

    Thread safe, and shared by processes: every replica given the same ``dsn`` and
    ``table`` sees the same sessions.
    """

    lc_secret_ids: ClassVar[dict[str, str]] = {"dsn": "PG_DSN"}

    dsn: SecretStr | None = Field(default_factory=_env_dsn)
    """The libpq DSN or URL (a secret: ``!secret PG_DSN``); default: ``PG_DSN``."""
    table: str = "runwire_messages"
    """The table that holds the messages (letters, digits and ``_``)."""
    max_size: int = 4
    """Connections the pool may open."""
    timeout: float = 30.0
    """Seconds to wait for a connection."""

    _pool: Any = PrivateAttr(default=None)
    _pid: int = PrivateAttr(default=0)
    _ready: bool = PrivateAttr(default=False)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @field_validator("dsn")
    @classmethod
    def _mask(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from runwire.graph.checkpoint.postgres import protect_dsn

            protect_dsn(value.get_secret_value())
        return value

    @field_validator("table")
    @classmethod
    def _safe_table(cls, value: str) -> str:
        return _check_table(value)

    @field_validator("max_size")
    @classmethod
    def _sane_size(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("max_size must be between 1 and 100 connections")
        return value

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if not 0 < value <= 600:
            raise ValueError("timeout must be more than 0 and at most 600 seconds")
        return value

    def __repr__(self) -> str:
        return f"PostgresChatHistoryStore(table={self.table!r})"

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> PostgresChatHistoryStore:
        """The same settings, with a pool and lock of its own (opened on first use)."""
        clone = self.model_copy()
        private = dict(self.__pydantic_private__ or {})
        clone.__pydantic_private__ = {
            **private,
            "_pool": None,
            "_pid": 0,
            "_ready": False,
            "_lock": threading.Lock(),
        }
        return clone

    # -- the pool ------------------------------------------------------------------------
    def _connection(self) -> Any:
        """A pooled connection (a context manager), the pool and table made on first use."""
        from runwire.errors import ManifestError

        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                if self.dsn is None:
                    raise ManifestError(
                        "PostgresChatHistoryStore has no dsn",
                        hint="set dsn: !secret PG_DSN in the manifest (or PG_DSN in Python)",
                    )
                self._pool, self._pid, self._ready = self._open(), os.getpid(), False
            if not self._ready:
                self._create_table()
                self._ready = True
        return self._pool.connection()

    def _open(self) -> Any:
        from psycopg_pool import ConnectionPool, PoolTimeout

        from runwire.graph.checkpoint.postgres import connect_error

        dsn = self.dsn.get_secret_value()  # type: ignore[union-attr]
        pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=self.max_size,
            kwargs={"autocommit": True},
            timeout=self.timeout,
            open=False,
            name="runwire-history",
        )
        try:
            pool.open(wait=True, timeout=self.timeout)
        except PoolTimeout as exc:
            pool.close()
            raise connect_error(exc, dsn) from None
        weakref.finalize(self, pool.close)
        return pool

    def _create_table(self) -> None:
        from psycopg import sql

        table = sql.Identifier(self.table)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('runwire_history'))")
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id BIGSERIAL PRIMARY KEY,"
                    " session_id TEXT NOT NULL, message TEXT NOT NULL)"
                ).format(table)
            )
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (session_id, id)").format(
                    sql.Identifier(f"{self.table}_session"), table
                )
            )

    def close(self) -> None:
        """Close the pool (the next call opens one again)."""
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
            self._pool, self._ready = None, False

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(sql.Identifier(self.table))

    # -- the interface -------------------------------------------------------------------
    def get_messages(self, session_id: str) -> list[BaseMessage]:
        query = self._sql("SELECT id, message FROM {} WHERE session_id = %s ORDER BY id")
        with self._connection() as conn:
            rows = conn.execute(query, (str(session_id),)).fetchall()
        return [_read_row(row_id, raw, session_id) for row_id, raw in rows]

    def add_messages(self, session_id: str, messages: Sequence[BaseMessage]) -> None:
        rows = [(str(session_id), _write_row(m)) for m in _check_messages(messages)]
        if not rows:
            return
        insert = self._sql("INSERT INTO {} (session_id, message) VALUES (%s, %s)")
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))",
                (self.table, str(session_id)),
            )
            cur.executemany(insert, rows)

    def clear(self, session_id: str) -> None:
        with self._connection() as conn:
            conn.execute(self._sql("DELETE FROM {} WHERE session_id = %s"), (str(session_id),))

    def session_ids(self) -> list[str]:
        """The sessions that have messages, in the order they were started."""
        query = self._sql("SELECT session_id FROM {} GROUP BY session_id ORDER BY MIN(id)")
        with self._connection() as conn:
            return [row[0] for row in conn.execute(query).fetchall()]
