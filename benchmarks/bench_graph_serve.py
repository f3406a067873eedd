"""Serving graphs with threads: ``runwire serve`` (the LangGraph API) against LangGraph.

Run: ``.venv/bin/python benchmarks/bench_graph_serve.py`` (install the ``bench`` extra
for the peer: langgraph, langgraph-checkpoint-sqlite, langgraph-checkpoint-postgres).
Target (issue 21): runs per second of a 3-node graph, a new thread per request, 64
concurrent clients, at least 3x LangGraph's with the same kind of checkpointer (SQLite,
then PostgreSQL); p50/p99 latency reported for both.

- runwire: ``runwire serve runwire.yaml --no-access-log`` serving the graph file
  ``graph.yaml`` (3 nodes, each copying a state key), its ``checkpointer:`` SQLite (a
  file) or PostgreSQL; each request is ``POST /threads/{new id}/runs/wait`` with
  ``if_not_exists: create``: the thread row and run record are written too.
- LangGraph: the same graph built with ``langgraph.graph.StateGraph`` (three Python
  functions doing the same copies), compiled with LangGraph's own ``AsyncSqliteSaver``
  (langgraph-checkpoint-sqlite) or ``AsyncPostgresSaver`` on a psycopg pool of the same
  size as runwire's (langgraph-checkpoint-postgres), served by a plain FastAPI app on
  uvicorn (httptools, uvloop, no access log) at the same path, calling
  ``graph.ainvoke(input, {"configurable": {"thread_id": ...}})``.
  ``langgraph dev`` is not used: it is LangGraph's in-memory development server
  (langgraph-cli's ``inmem`` extra with langgraph-api), whose threads live in its own
  in-process store rather than a SQLite or PostgreSQL saver, so it measures neither
  checkpointer; LangGraph's production server needs a licence and Redis.

Both servers are one uvicorn worker, started fresh for each measurement in a
subprocess and run one at a time; rounds alternate which goes first. Both SQLite files
are in WAL mode with ``synchronous=NORMAL`` (runwire's setting; set on LangGraph's
connection too) on ``/dev/shm`` when there is one, so the disk of a shared machine does
not decide. PostgreSQL is a
throwaway server (tests/postgres_server.py: Debian's PostgreSQL, fsync off), a new
database per measurement. The load is bench_server.py's raw asyncio HTTP/1.1 client in
this process: 64 keep-alive connections, one coroutine each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNWIRE_BIN = Path(sys.executable).with_name("runwire")
HOST = "127.0.0.1"
TARGET = 3.0
POOL_SIZE = 10  # PostgreSQL connections per server (runwire's default max_size)
INSTALL_HINT = "install the bench extra: .venv/bin/pip install -e '.[bench]'"

GRAPH = """\
_type: StateGraph
name: bench
state:
  question: {type: string}
  a: {type: string}
  b: {type: string}
  answer: {type: string}
input: [question]
nodes:
  first: {reads: {question: question}, writes: a, run: {_type: RunnablePick, keys: question}}
  second: {reads: {a: a}, writes: b, run: {_type: RunnablePick, keys: a}}
  third: {reads: {b: b}, writes: answer, run: {_type: RunnablePick, keys: b}}
edges: [[START, first], [first, second], [second, third], [third, END]]
"""
BODY = {"assistant_id": "bench", "input": {"question": "q"}, "if_not_exists": "create"}
EXPECTED = {"question": "q", "a": "q", "b": "q", "answer": "q"}


# --- the LangGraph peer --------------------------------------------------------------


def peer_graph() -> Any:
    """The same three nodes, in LangGraph."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    class State(TypedDict, total=False):
        question: str
        a: str
        b: str
        answer: str

    def first(state: State) -> State:
        return {"a": state["question"]}

    def second(state: State) -> State:
        return {"b": state["a"]}

    def third(state: State) -> State:
        return {"answer": state["b"]}

    graph = StateGraph(State)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_node("third", third)
    graph.add_edge(START, "first")
    graph.add_edge("first", "second")
    graph.add_edge("second", "third")
    graph.add_edge("third", END)
    return graph


def peer_app(saver_kind: str, where: str) -> Any:
    """FastAPI calling the compiled graph with LangGraph's saver of ``saver_kind``."""
    from contextlib import asynccontextmanager

    from fastapi import Body, FastAPI

    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        if saver_kind == "sqlite":
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            async with AsyncSqliteSaver.from_conn_string(where) as saver:
                await saver.setup()  # WAL; synchronous=NORMAL as runwire's (no fsync per commit)
                await saver.conn.execute("PRAGMA synchronous=NORMAL")
                state["graph"] = peer_graph().compile(checkpointer=saver)
                yield
            return
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
        async with AsyncConnectionPool(where, max_size=POOL_SIZE, kwargs=kwargs) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            state["graph"] = peer_graph().compile(checkpointer=saver)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/threads/{thread_id}/runs/wait")
    async def wait(thread_id: str, body: dict = Body(...)) -> Any:  # noqa: B008
        config = {"configurable": {"thread_id": thread_id}}
        return await state["graph"].ainvoke(body["input"], config)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


def serve_peer(port: int, saver_kind: str, where: str) -> None:
    import uvicorn

    uvicorn.run(
        peer_app(saver_kind, where),
        host=HOST,
        port=port,
        http="httptools",
        loop="uvloop",
        access_log=False,
        log_level="warning",
    )


# --- servers ---------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def started(command: list[str], port: int, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    url = f"http://{HOST}:{port}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited:\n{log.read().decode(errors='replace')}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWIRE_", "AWS_"))}
    return {**env, **extra}


@contextmanager
def runwire_server(kind: str, dsn: str, folder: Path) -> Iterator[str]:
    (folder / "graph.yaml").write_text(GRAPH)
    checkpointer = (
        "{sqlite: {path: checkpoints.db}}"
        if kind == "sqlite"
        else "{postgres: {dsn: !secret PG_DSN}}"
    )
    (folder / "runwire.yaml").write_text(
        f"pipelines:\n  bench: graph.yaml\ncheckpointer: {checkpointer}\n"
    )
    port = free_port()
    command = [str(RUNWIRE_BIN), "serve", "runwire.yaml", "--port", str(port), "--no-access-log"]
    with started(command, port, folder, _env(PG_DSN=dsn)) as url:
        yield url


@contextmanager
def peer_server(kind: str, dsn: str, folder: Path) -> Iterator[str]:
    port = free_port()
    where = str(folder / "checkpoints.db") if kind == "sqlite" else dsn
    command = [sys.executable, __file__, "--serve-peer", str(port), kind, where]
    with started(command, port, folder, _env()) as url:
        yield url


# --- load --------------------------------------------------------------------------------


@dataclass
class Load:
    done: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def run_request(port: int) -> bytes:
    """One keep-alive ``POST /threads/{new id}/runs/wait`` (the thread id is new each time)."""
    body = orjson.dumps(BODY)
    head = (
        f"POST /threads/{uuid.uuid4()}/runs/wait HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def hammer(url: str, clients: int, warmup: float, seconds: float) -> Load:
    """``clients`` keep-alive connections sending runs back to back: the raw asyncio
    client of bench_server.py (an httpx client costs ~1 ms of this machine's two CPUs per
    request, which the servers then lack). The first answer is checked whole."""
    from bench_server import read_response

    async with httpx.AsyncClient(base_url=url, timeout=60) as check:
        answer = await check.post(f"/threads/{uuid.uuid4()}/runs/wait", json=BODY)
        if answer.status_code != 200 or answer.json() != EXPECTED:
            raise SystemExit(f"{url}: {answer.status_code} {answer.text[:300]}")
    port = int(url.rsplit(":", 1)[1])
    load = Load()
    loop = asyncio.get_running_loop()
    t0 = loop.time() + warmup
    t1 = t0 + seconds

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while (now := loop.time()) < t1:
                writer.write(run_request(port))
                try:
                    status, keep = await read_response(reader)
                    reason = None if status == 200 else f"status {status}"
                except (OSError, asyncio.IncompleteReadError) as exc:
                    reason, keep = type(exc).__name__, False
                end = loop.time()
                if now >= t0 and end <= t1:
                    if reason is None:
                        load.done += 1
                        load.latencies.append(end - now)
                    else:
                        load.failures[reason] = load.failures.get(reason, 0) + 1
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    load.seconds = seconds
    return load


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def describe(name: str, load: Load) -> str:
    p50 = percentile(load.latencies, 0.5) * 1000
    p99 = percentile(load.latencies, 0.99) * 1000
    failed = f"  failures {load.failures}" if load.failures else ""
    return f"  {name:<28} {load.rps:8.0f} runs/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{failed}"


@contextmanager
def postgres() -> Iterator[Any]:
    sys.path.insert(0, str(ROOT / "tests"))
    import postgres_server as pg

    folder = pg.find_bin()
    if folder is None:
        raise SystemExit("PostgreSQL is not installed: bash tests/tools/ensure_postgres.sh")
    server = pg.PostgresServer(
        bin=folder,
        folder=Path(tempfile.mkdtemp(prefix="runwire-bench-pg-")),
        user=pg._os_user(),
    )
    server.start()
    try:
        yield server, pg
    finally:
        server.stop()


SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") else None
"""Where the SQLite files go: memory-backed when the machine has it, so a shared disk's
fsync stalls (the WAL's checkpoints) measure neither side."""


def measure(
    kind: str, side: str, clients: int, warmup: float, seconds: float, pg: Any = None
) -> Load:
    with tempfile.TemporaryDirectory(prefix="runwire-bench-", dir=SCRATCH) as tmp:
        dsn = ""
        name = None
        if kind == "postgres":
            server, module = pg
            name, dsn = module.new_database(server.dsn, prefix="bench")
        try:
            make = runwire_server if side == "runwire" else peer_server
            with make(kind, dsn, Path(tmp)) as url:
                return asyncio.run(hammer(url, clients, warmup, seconds))
        finally:
            if name is not None:
                module.drop_database(server.dsn, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--serve-peer", nargs=3, metavar=("PORT", "KIND", "WHERE"))
    args = parser.parse_args()
    if args.serve_peer:
        port, kind, where = args.serve_peer
        serve_peer(int(port), kind, where)
        return
    try:
        import langgraph.checkpoint.postgres.aio
        import langgraph.checkpoint.sqlite.aio  # noqa: F401
    except ImportError:
        raise SystemExit(INSTALL_HINT) from None
    kinds = [args.only] if args.only else ["sqlite", "postgres"]
    print(
        f"3-node graph, a new thread per run, {args.clients} clients, "
        f"{args.seconds:g} s x {args.rounds} rounds per side"
    )
    with postgres() as pg:
        for kind in kinds:
            loads: dict[str, list[Load]] = {"runwire": [], "langgraph": []}
            for round_ in range(args.rounds):
                order = ["runwire", "langgraph"] if round_ % 2 == 0 else ["langgraph", "runwire"]
                for side in order:
                    load = measure(kind, side, args.clients, args.warmup, args.seconds, pg)
                    loads[side].append(load)
            print(f"{kind}:")
            best = {}
            for side in ("runwire", "langgraph"):
                top = max(loads[side], key=lambda load: load.rps)
                best[side] = top.rps
                label = "runwire serve" if side == "runwire" else "FastAPI + LangGraph"
                print(describe(label, top))
            ratio = best["runwire"] / best["langgraph"] if best["langgraph"] else float("inf")
            verdict = "meets" if ratio >= TARGET else "misses"
            print(f"  runwire / LangGraph: {ratio:.2f}x ({verdict} the {TARGET:g}x target)")
            print(
                "  rounds (runs/s): "
                + "; ".join(
                    f"{side} {', '.join(f'{load.rps:.0f}' for load in loads[side])}"
                    for side in loads
                )
            )


if __name__ == "__main__":
    main()
