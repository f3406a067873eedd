"""Server throughput: ``runwire serve`` against LangServe, POST /invoke over loopback.

Run: ``.venv/bin/python benchmarks/bench_server.py`` (install the ``bench`` extra for the
peer). Target (issue 6): requests per second of ``/invoke`` on prompt | fake chat model |
StrOutputParser with 64 concurrent keep-alive clients is at least 3x LangServe serving
the equivalent langchain-core chain with the same number of uvicorn workers, measured
in the same run; p50/p99 latency is reported for both.

Both servers are subprocesses on a free 127.0.0.1 port, started fresh for each
measurement and run one at a time so they never share the CPU; rounds alternate which
one goes first. LangServe runs under uvicorn with runwire's options (httptools, uvloop,
no access log; runwire with ``--no-access-log`` too) via ``bench_server.py
--serve-langserve PORT WORKERS``. The chain of both
comes from ``benchmarks/fixtures/server_chain.yaml``. The load comes from a small
asyncio HTTP/1.1 client in this process, cheap enough not to starve the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "server_chain.yaml"
RUNWIRE_BIN = Path(sys.executable).with_name("runwire")
HOST = "127.0.0.1"
INPUT = {"role": "a terse geographer", "question": "What is the capital of France?"}
UVICORN_OPTIONS: dict[str, Any] = {
    "http": "httptools",
    "loop": "uvloop",
    "access_log": False,
    "log_level": "warning",
}
TARGET = 3.0
INSTALL_HINT = "install the bench extra: .venv/bin/pip install -e '.[bench]'"


# --- the servers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """How to start one side and where to send its requests."""

    name: str
    invoke_path: str
    ready_path: str
    command: Callable[[int, int], list[str]]


def runwire_command(port: int, workers: int) -> list[str]:
    """``runwire serve`` of the fixture (served under its file stem), without its access
    log, as LangServe runs here (runwire logs one JSON line per request by default)."""
    where = ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    return [str(RUNWIRE_BIN), "serve", str(FIXTURE), *where, "--no-access-log"]


def langserve_command(port: int, workers: int) -> list[str]:
    """This file in ``--serve-langserve`` mode."""
    return [
        sys.executable,
        str(HERE / "bench_server.py"),
        "--serve-langserve",
        str(port),
        str(workers),
    ]


RUNWIRE = Server("runwire", f"/{FIXTURE.stem}/invoke", "/healthz", runwire_command)
LANGSERVE = Server("langserve", "/chain/invoke", "/openapi.json", langserve_command)


def langserve_app() -> Any:
    """The fixture's chain built with langchain-core, under LangServe on FastAPI."""
    import warnings

    warnings.simplefilter("ignore")
    from fastapi import FastAPI
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langserve import add_routes
    from ruamel.yaml import YAML

    prompt, model, parser = YAML(typ="safe").load(FIXTURE.read_text())["steps"]
    assert (prompt["_type"], model["_type"], parser["_type"]) == (
        "ChatPromptTemplate",
        "FakeChatModel",
        "StrOutputParser",
    ), f"{FIXTURE} is no longer prompt | fake chat model | parser"
    chain = (
        ChatPromptTemplate.from_messages([tuple(m) for m in prompt["messages"]])
        | FakeListChatModel(responses=model["responses"])
        | StrOutputParser()
    )
    app = FastAPI()
    add_routes(app, chain, path="/chain")
    return app


def serve_langserve(port: int, workers: int) -> None:
    """Run :func:`langserve_app` with uvicorn (an import string, so workers > 1 work)."""
    import uvicorn

    uvicorn.run(
        "bench_server:langserve_app",
        factory=True,
        app_dir=str(HERE),
        host=HOST,
        port=port,
        workers=workers,
        **UVICORN_OPTIONS,
    )


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started server process and its captured output."""

    server: Server
    port: int
    proc: subprocess.Popen[bytes]
    log: Any

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the server printed."""
        self.log.seek(0)
        return "\n".join(self.log.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self) -> int:
        """SIGTERM (SIGKILL after 15 s); returns the exit code."""
        self.proc.terminate()
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@contextmanager
def serving(server: Server, workers: int, timeout: float) -> Iterator[Running]:
    """Run ``server`` once its ready path answers 200 (waiting at most ``timeout`` s).

    On the way out the server gets SIGTERM; a crash, an unclean exit or a traceback in
    its output is printed, so problems show beside the figures.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RUNWIRE_API_KEYS"}
    with tempfile.TemporaryFile() as log:
        command = server.command(port, workers)
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        running = Running(server, port, proc, log)
        try:
            wait_ready(running, timeout)
            yield running
        finally:
            code = running.stop()
            tail = running.log_tail()
            if code not in (0, -signal.SIGTERM) or "Traceback" in tail or "ERROR" in tail:
                print(f"  ! {server.name} exited {code}; its last output:\n{tail}", flush=True)


def wait_ready(running: Running, timeout: float) -> None:
    """Poll the ready path until 200; SystemExit when the time is up or the server died."""
    url = f"http://{HOST}:{running.port}{running.server.ready_path}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running.proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while starting, or an HTTP error: poll again
            pass
        time.sleep(0.1)
    raise SystemExit(f"{running.server.name} was not ready on {url} within {timeout:g} s")


def request_bytes(path: str, port: int) -> bytes:
    """One pre-built keep-alive POST of the benchmark input, LangServe's request body."""
    body = orjson.dumps({"input": INPUT, "config": {}, "kwargs": {}})
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def invoke_once(running: Running) -> Any:
    """The ``output`` of one /invoke (raises SystemExit on anything but 200)."""
    url = f"http://{HOST}:{running.port}{running.server.invoke_path}"
    data = orjson.dumps({"input": INPUT, "config": {}, "kwargs": {}})
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return orjson.loads(response.read())["output"]
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{running.server.name} /invoke: {exc.code} {exc.read()[:500]!r}") from exc


# --- the load client -----------------------------------------------------------------


@dataclass
class Load:
    """What the clients saw inside the measured window."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    client_cpu: float = 0.0  # this process's CPU seconds per wall second, whole run

    @property
    def rps(self) -> float:
        """Successful responses per second."""
        return len(self.latencies) / self.seconds

    def fail(self, reason: str) -> None:
        """Count one failed request."""
        self.failures[reason] = self.failures.get(reason, 0) + 1


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns its status and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        await reader.readexactly(int(lower[at + 17 : end]))
    elif b"transfer-encoding: chunked" in lower:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status, b"connection: close" not in lower


async def client(port: int, request: bytes, load: Load, t0: float, t1: float) -> None:
    """One keep-alive connection sending requests back to back until ``t1``."""
    writer: asyncio.StreamWriter | None = None
    while (now := time.perf_counter()) < t1:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            sent = time.perf_counter()
            writer.write(request)
            status, keep = await read_response(reader)
            done = time.perf_counter()
            if t0 <= sent and done <= t1:
                if status == 200:
                    load.latencies.append(done - sent)
                else:
                    load.fail(f"HTTP {status}")
            if not keep:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            if t0 <= now <= t1:
                load.fail(type(exc).__name__)
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def hammer(running: Running, clients: int, warmup: float, seconds: float) -> Load:
    """``clients`` connections: ``warmup`` s unmeasured, then ``seconds`` s measured."""
    request = request_bytes(running.server.invoke_path, running.port)
    load = Load(seconds)
    cpu = time.process_time()
    t0 = time.perf_counter() + warmup
    t1 = t0 + seconds
    tasks = [
        asyncio.ensure_future(client(running.port, request, load, t0, t1)) for _ in range(clients)
    ]
    _, stuck = await asyncio.wait(tasks, timeout=warmup + seconds + 30)
    for task in stuck:
        task.cancel()
        load.fail("stuck request")
    load.client_cpu = (time.process_time() - cpu) / (time.perf_counter() - t0 + warmup)
    return load


def run_load(running: Running, clients: int, warmup: float, seconds: float) -> Load:
    """:func:`hammer` on uvloop when it is installed."""
    try:
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(hammer(running, clients, warmup, seconds))


# --- the report ----------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank); nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, rps: float, latencies: list[float], failures: dict[str, int]) -> str:
    """One table line: rps, p50/p99 in ms, failures (and their reasons)."""
    p50, p99 = (percentile(latencies, q) * 1e3 for q in (0.5, 0.99))
    line = f"  {label:26s} {rps:9.0f} {p50:9.1f} {p99:9.1f} {sum(failures.values()):8d}"
    if failures:
        line += "  " + ", ".join(f"{k}: {v}" for k, v in sorted(failures.items()))
    return line


def summary(name: str, loads: list[Load]) -> str:
    """Median rps of the rounds; p50/p99 and failures of all rounds pooled."""
    latencies = [x for load in loads for x in load.latencies]
    failures: dict[str, int] = {}
    for load in loads:
        for reason, count in load.failures.items():
            failures[reason] = failures.get(reason, 0) + count
    rps = statistics.median(load.rps for load in loads)
    return row(f"{name} (median/pooled)", rps, latencies, failures)


def measure(
    server: Server, args: argparse.Namespace, expected: Any, results: dict[str, list[Load]]
) -> Any:
    """Start ``server``, check its answer, load it, stop it; returns its answer."""
    with serving(server, args.workers, args.ready_timeout) as running:
        answer = invoke_once(running)
        if expected is not None and answer != expected:
            raise SystemExit(f"{server.name} answered {answer!r}, the other side {expected!r}")
        load = run_load(running, args.clients, args.warmup, args.seconds)
    results[server.name].append(load)
    line = row(server.name, load.rps, load.latencies, load.failures)
    print(f"{line}  (client {load.client_cpu:.0%} CPU)", flush=True)
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument("--serve-langserve", nargs=2, type=int, metavar=("PORT", "WORKERS"))
    args = parser.parse_args()
    if args.serve_langserve:
        serve_langserve(*args.serve_langserve)
        return
    try:
        import langchain_core  # noqa: F401
        import langserve  # noqa: F401

        servers = [RUNWIRE, LANGSERVE]
    except ImportError as exc:
        print(f"LangServe or langchain-core missing ({exc}): runwire alone; {INSTALL_HINT}")
        servers = [RUNWIRE]
    print(
        f"POST /invoke, prompt | fake chat model | parser: {args.clients} clients,"
        f" {args.workers} worker(s), {args.warmup:g} s warm-up + {args.seconds:g} s,"
        f" {args.rounds} rounds"
    )
    print(f"  {'server':26s} {'rps':>9s} {'p50 ms':>9s} {'p99 ms':>9s} {'failed':>8s}")
    results: dict[str, list[Load]] = {s.name: [] for s in servers}
    expected = None
    for round_ in range(args.rounds):  # alternating who goes first
        for server in servers[::-1] if round_ % 2 else servers:
            expected = measure(server, args, expected, results)
    print("  " + "-" * 64)
    for server in servers:
        print(summary(server.name, results[server.name]))
    ours_rps = statistics.median(x.rps for x in results["runwire"])
    if "langserve" not in results:
        print(f"server invoke rps: runwire {ours_rps:.0f} (langserve not measured; {INSTALL_HINT})")
        return
    theirs_rps = statistics.median(x.rps for x in results["langserve"])
    # each round runs both sides back to back: the median of the per-round ratios
    # cancels the machine's drift better than a ratio of medians
    ratio = statistics.median(
        o.rps / t.rps if t.rps else float("inf")
        for o, t in zip(results["runwire"], results["langserve"], strict=True)
    )
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(
        f"server invoke rps: runwire {ours_rps:.0f} vs langserve {theirs_rps:.0f}"
        f" -> {ratio:.1f}x (target {TARGET:g}x, {verdict}; median of per-round ratios)"
    )


if __name__ == "__main__":
    main()
