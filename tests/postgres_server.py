"""A real PostgreSQL server for the tests, started once per session on a free loopback port.

Fixtures (imported by tests/conftest.py, so every test module can use them):

- ``postgres_server`` (session): the running :class:`PostgresServer`; its ``dsn`` is the
  superuser's DSN of the ``postgres`` database (create databases with it, don't fill it).
- ``postgres_dsn`` (function): the DSN of a new, empty database made for the test and
  dropped after it, so tests never see each other's tables. Two processes (two
  ``runwire serve`` replicas, say) given this DSN share that one database.

The server is Debian's PostgreSQL (``/usr/lib/postgresql/<version>/bin``, installed by
tests/tools/ensure_postgres.sh from ``make test``; ``RUNWIRE_PG_BIN`` names another
bin folder). One ``initdb`` per session, in a temporary folder, with ``fsync`` off
(test data need no durability); the server is stopped and the folder removed at the
end of the session, failed or not. PostgreSQL refuses to run as root, so under root
(CI) it runs as the ``postgres`` OS user, created when missing. Without the binaries
the tests that need the server skip, saying how to install them.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["PostgresServer", "find_bin", "new_database", "postgres_dsn", "postgres_server"]

_OS_USER = "postgres"
_SUPERUSER = "postgres"
_START_TIMEOUT_S = 60


def find_bin() -> Path | None:
    """The folder with ``initdb``, ``pg_ctl`` and ``postgres`` (newest Debian version), or None."""
    given = os.environ.get("RUNWIRE_PG_BIN")
    candidates = [Path(given)] if given else []
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = [p for p in root.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: -int(p.name))]
    for folder in candidates:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _os_user() -> pwd.struct_passwd | None:
    """The account the server runs as: None for the current one (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _OS_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(_OS_USER)


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, on ``127.0.0.1:port``."""

    bin: Path
    folder: Path
    port: int = 0
    user: pwd.struct_passwd | None = None
    _running: bool = field(default=False, repr=False)

    @property
    def dsn(self) -> str:
        """The superuser's DSN of the ``postgres`` database."""
        return self.database_dsn("postgres")

    def database_dsn(self, database: str) -> str:
        """The DSN of ``database`` on this server."""
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        extra: dict[str, Any] = {}
        if self.user is not None:
            extra = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            cwd=self.folder,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
            timeout=_START_TIMEOUT_S,
            **extra,
            **kwargs,
        )

    def start(self) -> None:
        """``initdb`` then ``pg_ctl start`` (a busy port is retried with another)."""
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        data = self.folder / "data"
        done = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            _SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        for _attempt in range(3):
            self.port = _free_port()
            done = self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                str(_START_TIMEOUT_S),
                "-o",
                f"-p {self.port} {options}",
                "start",
            )
            if done.returncode == 0:
                self._running = True
                return
        log = self.folder / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{tail}")

    def stop(self) -> None:
        """Stop the server (immediately: nothing here needs a clean shutdown), remove its folder."""
        if self._running:
            self._running = False
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"
            )
        shutil.rmtree(self.folder, ignore_errors=True)


def new_database(server_dsn: str, prefix: str = "t") -> tuple[str, str]:
    """A new empty database on the server of ``server_dsn``: ``(name, dsn)``."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, server_dsn.rsplit("/", 1)[0] + "/" + name


def drop_database(server_dsn: str, name: str) -> None:
    """Drop ``name``, disconnecting whoever still uses it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skips when PostgreSQL is not installed)."""
    pytest.importorskip("psycopg", reason="psycopg is in the dev extra: pip install -e '.[dev]'")
    folder = find_bin()
    if folder is None:
        pytest.skip(
            "PostgreSQL is not installed: run `bash tests/tools/ensure_postgres.sh` "
            "(make test does) or set RUNWIRE_PG_BIN to its bin folder"
        )
    server = PostgresServer(
        bin=folder, folder=Path(tempfile.mkdtemp(prefix="runwire-pg-")), user=_os_user()
    )
    atexit.register(server.stop)  # also when the session dies before its teardown
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """The DSN of a new database of its own for this test, dropped after it."""
    name, dsn = new_database(postgres_server.dsn)
    try:
        yield dsn
    finally:
        drop_database(postgres_server.dsn, name)
