"""The checkpointer a deployment names (``checkpointer:`` in runwire.yaml), opened.

``open_checkpointer(setting, secrets)`` is a context manager yielding a sync saver
(``PostgresSaver`` or ``SqliteSaver``), ``open_async_checkpointer(setting, secrets)`` an
async one yielding a saver whose async methods are native where the driver allows
(``AsyncPostgresSaver``; ``SqliteSaver`` runs its async twins in worker threads, or on
the loop for a file only this process writes: ``sole_writer``). Both
set the tables up before yielding and close the connections on exit.

``setting`` is a :class:`~runwire.deploy.deployment.Deployment` (its ``checkpointer``),
a :class:`CheckpointerSpec`, or ``None``: the embedded default, SQLite in
``.runwire/checkpoints.db`` of the working directory. ``secrets`` is a mapping of
secret names to values (a :class:`~runwire.deploy.secrets.SecretResolver`, as
``secret_resolver(load_settings())`` gives). The functions read nothing else: no
environment, no global state. The DSN never appears in a repr, an error or a log
line (it is registered for masking the moment it is read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runwire.deploy.deployment_models import (
    CheckpointerSpec,
    PostgresCheckpointer,
    SqliteCheckpointer,
)
from runwire.errors import ManifestError, MissingSecretError

if TYPE_CHECKING:
    from runwire.deploy.deployment import Deployment
    from runwire.graph.checkpoint.base import BaseCheckpointSaver

__all__ = [
    "checkpointer_spec",
    "describe_checkpointer",
    "dsn_secret_problems",
    "open_async_checkpointer",
    "open_checkpointer",
]

_WHERE = "$.checkpointer.postgres.dsn"


def checkpointer_spec(setting: Deployment | CheckpointerSpec | None) -> CheckpointerSpec:
    """The spec ``setting`` stands for (the SQLite default when it names none)."""
    spec = getattr(setting, "checkpointer", setting)
    if spec is None:
        return CheckpointerSpec(sqlite=SqliteCheckpointer())
    if not isinstance(spec, CheckpointerSpec):
        raise TypeError(f"expected a Deployment or a CheckpointerSpec, got {type(spec).__name__}")
    return spec


def dsn_secret_problems(
    path: Path, deployments: Mapping[str | None, Deployment], secrets: Mapping[str, str]
) -> list[ManifestError]:
    """The PostgreSQL DSN secrets that ``deployments`` (a deployment file read without
    environment, ``None``, and under each of its environments) name and ``secrets``
    lacks: what ``runwire serve`` would stop on when it opens the checkpointer. Each
    names the file, line and JSON path; never a value."""
    from runwire.errors import RunwireError
    from runwire.loader.source import compose

    found: list[ManifestError] = []
    seen: set[str] = set()
    located: Any = None  # the file's data and positions, read for the first problem
    for env, deployment in deployments.items():
        spec = deployment.checkpointer
        name = spec.postgres.dsn if spec is not None and spec.postgres is not None else None
        if name is None or name in seen:
            continue
        seen.add(name)
        hint = f"export {name} (its value is never printed)"
        message = f"secret {name} (the checkpointer's DSN) is not set"
        try:
            value = secrets.get(name)
        except RunwireError as exc:  # a secret source that cannot answer
            value, message, hint = None, getattr(exc, "message", str(exc)), ""
        if value:
            continue
        located = located or compose([path])
        overlay = (located[0].get("environments") or {}).get(env) or {}
        own = env is not None and "checkpointer" in overlay
        parts = (*(("environments", env) if own else ()), "checkpointer", "postgres", "dsn")
        file, line, column = located[1].locate(parts)
        at = "$" + "".join(f".{part}" for part in parts)
        found.append(
            ManifestError(message, path=at, hint=hint, file=file, line=line, column=column)
        )
    return found


def describe_checkpointer(setting: Deployment | CheckpointerSpec | None) -> str:
    """One line for logs and ``/readyz``-style reports; names the secret, never its value."""
    spec = checkpointer_spec(setting)
    if spec.postgres is not None:
        return f"postgres (DSN from secret {spec.postgres.dsn})"
    return f"sqlite {_sqlite_path(spec.sqlite)}"  # type: ignore[arg-type]


def _dsn(spec: PostgresCheckpointer, secrets: Mapping[str, str]) -> str:
    from runwire.graph.checkpoint.postgres import protect_dsn

    try:
        dsn = secrets[spec.dsn]
    except KeyError:
        dsn = ""
    if not dsn:
        raise MissingSecretError(
            f"secret {spec.dsn} (the checkpointer's PostgreSQL DSN) is not set",
            path=_WHERE,
            hint=f"set {spec.dsn} in the environment or another configured secret source",
        )
    protect_dsn(dsn)
    return dsn


def _sqlite_path(spec: SqliteCheckpointer) -> Path:
    path = spec.path.expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _sqlite_file(spec: SqliteCheckpointer) -> str:
    path = _sqlite_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def _pool_options(spec: PostgresCheckpointer) -> dict[str, Any]:
    return {"min_size": spec.min_size, "max_size": spec.max_size, "timeout": spec.timeout_s}


@contextmanager
def open_checkpointer(
    setting: Deployment | CheckpointerSpec | None, secrets: Mapping[str, str]
) -> Iterator[BaseCheckpointSaver]:
    """``with open_checkpointer(deployment, resolver) as saver:`` a sync saver, set up.

    Raises ``MissingSecretError`` when the DSN's secret is not set, ``ProviderError``
    when PostgreSQL cannot be reached (DSN masked).
    """
    spec = checkpointer_spec(setting)
    if spec.postgres is not None:
        from runwire.graph.checkpoint.postgres import PostgresSaver

        dsn = _dsn(spec.postgres, secrets)
        with PostgresSaver.from_conn_string(dsn, **_pool_options(spec.postgres)) as saver:
            yield saver
        return
    from runwire.graph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(_sqlite_file(spec.sqlite)) as sqlite:  # type: ignore[arg-type]
        yield sqlite


@asynccontextmanager
async def open_async_checkpointer(
    setting: Deployment | CheckpointerSpec | None,
    secrets: Mapping[str, str],
    *,
    sole_writer: bool = False,
) -> AsyncIterator[BaseCheckpointSaver]:
    """``async with open_async_checkpointer(deployment, resolver) as saver:`` a saver for
    async runs, set up, its connections bound to the running event loop.

    ``sole_writer``: this process is the only one writing a SQLite file (a server with
    one worker). Its calls then run on the event loop (``inline_async``), with
    ``synchronous=NORMAL`` and the WAL checkpointed by a thread of its own
    (:class:`~runwire.graph.checkpoint.sqlite.WalCheckpointer`), so no fsync runs on the
    loop."""
    spec = checkpointer_spec(setting)
    if spec.postgres is not None:
        from runwire.graph.checkpoint.postgres_aio import AsyncPostgresSaver

        dsn = _dsn(spec.postgres, secrets)
        manager = AsyncPostgresSaver.from_conn_string(dsn, **_pool_options(spec.postgres))
        async with manager as saver:
            yield saver
        return
    import asyncio

    from runwire.graph.checkpoint.sqlite import SqliteSaver

    path = await asyncio.to_thread(_sqlite_file, spec.sqlite)  # type: ignore[arg-type]
    if not sole_writer:
        with SqliteSaver.from_conn_string(path) as sqlite:
            yield sqlite
        return
    from runwire.graph.checkpoint.sqlite import WalCheckpointer

    with SqliteSaver.from_conn_string(path, inline_async=True) as sqlite:
        sqlite.conn.execute("PRAGMA synchronous=NORMAL")
        sqlite.conn.execute("PRAGMA wal_autocheckpoint=0")
        with WalCheckpointer(path):
            yield sqlite
