"""``SQLiteCache``: the exact-match model cache in a SQLite file (LangChain's table).

Rows of ``full_llm_cache(prompt, llm, idx, response)``, one per generation, each
``response`` the generation's lc JSON (read back through the safe loader, never
unpickled). A manifest that is not trusted may only name a relative path inside the
working directory.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr, field_validator

from runwire.runtime.cache import BaseCache, ReturnValue, load_generations, new_stats
from runwire.schema.dump import dumps
from runwire.schema.outputs import Generation
from runwire.schema.serializable import Serializable
from runwire.schema.trust import current_trust

__all__ = ["SQLiteCache"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS full_llm_cache ("
    "prompt TEXT NOT NULL, llm TEXT NOT NULL, idx INTEGER NOT NULL, response TEXT, "
    "PRIMARY KEY (prompt, llm, idx))"
)


class SQLiteCache(Serializable, BaseCache):
    """Model answers kept in a SQLite database file (``:memory:`` for none)."""

    database_path: str = ".langchain.db"
    """The database file (LangChain's default name)."""

    _conn: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _stats: dict[str, int] = PrivateAttr(default_factory=new_stats)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "caches"]

    @field_validator("database_path")
    @classmethod
    def _inside_project(cls, value: str) -> str:
        if value == ":memory:" or current_trust().trusted:
            return value
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or not value.strip():
            raise ValueError(
                "an untrusted manifest may only name a relative database_path inside the "
                "working directory"
            )
        return value

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.database_path, check_same_thread=False)
            conn.execute(_SCHEMA)
            conn.commit()
            self._conn = conn
        return self._conn

    def lookup(self, prompt: str, llm_string: str) -> list[Generation] | None:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT response FROM full_llm_cache WHERE prompt = ? AND llm = ? ORDER BY idx",
                    (prompt, llm_string),
                )
                .fetchall()
            )
        if not rows:
            return None
        generations: list[Generation] = []
        for (response,) in rows:
            loaded = load_generations(f"[{response}]") if response else None
            if loaded is None:
                return None
            generations += loaded
        return generations

    def update(self, prompt: str, llm_string: str, return_val: ReturnValue) -> None:
        rows = [(prompt, llm_string, i, dumps(g)) for i, g in enumerate(return_val)]
        with self._lock:
            db = self._db()
            db.execute(
                "DELETE FROM full_llm_cache WHERE prompt = ? AND llm = ?", (prompt, llm_string)
            )
            db.executemany("INSERT INTO full_llm_cache VALUES (?, ?, ?, ?)", rows)
            db.commit()

    def clear(self, **kwargs: Any) -> None:
        with self._lock:
            db = self._db()
            db.execute("DELETE FROM full_llm_cache")
            db.commit()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.database_path == self.database_path  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]
