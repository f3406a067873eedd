"""`runwire serve` as a real subprocess on a free loopback port, its stderr collected
line by line while it runs (for the reload, access-log and trace tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

RUNWIRE = [sys.executable, "-m", "runwire.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without runwire, AWS and OpenTelemetry settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWIRE_", "AWS_", "OTEL_"))}
    env.update(PYTHONUNBUFFERED="1", AWS_EC2_METADATA_DISABLED="true", **extra)
    return env


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` every 0.1 s until it returns something truthy (at most ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.1)


class Served:
    """A running ``runwire serve``: its URL, the process and the stderr lines so far."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait for the exit (and the last lines); the exit code."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def children(self) -> list[int]:
        """Pids of the server's child processes (from /proc)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(entry.name))
        return found


@contextmanager
def serving_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, ready_timeout: float = 30
) -> Iterator[Served]:
    """``runwire serve ARGS --port P`` until the block ends (killed if still running)."""
    port = free_port()
    process = subprocess.Popen(
        [*RUNWIRE, "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=env or clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(process, f"http://127.0.0.1:{port}")
    try:

        def ready() -> bool:
            if process.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(f"serve exited early:\n{served.stderr}")
            try:
                return httpx.get(f"{served.url}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, ready_timeout, "the server to be ready")
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
