"""Two `runwire serve` replicas sharing one real PostgreSQL (the checkpoints, threads and
runs): a thread interrupted on one is resumed on the other, a background run on one is
cancelled through the other, and a run in progress on a
replica that gets SIGTERM is drained (finished) or, when the drain's time is up, left
on its last checkpoint and continued on the other replica - never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client

from graph_api_files import write_project
from serve_process import Served, clean_env, serving_process

PG = "postgres: {dsn: !secret PG_DSN}"


def sdk(served: Served, test: Callable[[Any], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        client = get_client(url=served.url, api_key=None)
        try:
            return await test(client)
        finally:
            await client.http.client.aclose()

    return asyncio.run(main())


def _replica(root: Path, name: str, dsn: str, **env: str) -> Any:
    """A replica in a folder of its own: they share nothing but the database."""
    folder = root / name
    folder.mkdir(exist_ok=True)
    write_project(folder, PG)
    return serving_process("runwire.yaml", cwd=folder, env=clean_env(PG_DSN=dsn, **env))


async def _until_in_slow_node(client: Any, thread_id: str) -> None:
    for _ in range(200):
        if (await client.threads.get_state(thread_id))["next"] == ["slow"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the run never reached the slow node")


def test_interrupted_on_one_replica_resumed_on_the_other(tmp_path: Path, postgres_dsn: str) -> None:
    with _replica(tmp_path, "a", postgres_dsn) as a, _replica(tmp_path, "b", postgres_dsn) as b:

        async def on_a(client: Any) -> str:
            thread = await client.threads.create(metadata={"owner": "a"})
            paused = await client.runs.wait(thread["thread_id"], "review", input={"topic": "pg"})
            assert paused["__interrupt__"][0]["value"]["question"] == "Publish this draft?"
            return thread["thread_id"]

        tid = sdk(a, on_a)

        async def on_b(client: Any) -> None:
            thread = await client.threads.get(tid)
            assert thread["status"] == "interrupted" and thread["metadata"]["owner"] == "a"
            assert tid in [
                t["thread_id"] for t in await client.threads.search(metadata={"owner": "a"})
            ]
            assert (await client.threads.get_state(tid))["next"] == ["ask"]
            done = await client.runs.wait(tid, "review", command={"resume": "from b"})
            assert done["final"] == "Draft about pg (from b)"

        sdk(b, on_b)

        async def back_on_a(client: Any) -> None:
            state = await client.threads.get_state(tid)
            assert state["values"]["final"] == "Draft about pg (from b)" and state["next"] == []
            runs = await client.runs.list(tid)
            assert [r["status"] for r in runs] == ["success", "interrupted"]

        sdk(a, back_on_a)

        async def start_slow_on_a(client: Any) -> tuple[str, str]:
            thread_id = (await client.threads.create())["thread_id"]
            run = await client.runs.create(thread_id, "slow", input={"question": "stop"})
            await _until_in_slow_node(client, thread_id)
            return thread_id, run["run_id"]

        slow_tid, run_id = sdk(a, start_slow_on_a)

        async def cancel_on_b(client: Any) -> None:  # A runs it: B asks through the database
            await client.runs.cancel(slow_tid, run_id, wait=True)
            assert (await client.runs.get(slow_tid, run_id))["status"] == "interrupted"
            assert (await client.threads.get(slow_tid))["status"] == "idle"
            assert (await client.runs.wait(slow_tid, "slow", input=None))["done"] == "stop"

        sdk(b, cancel_on_b)
    assert not list(tmp_path.glob("*/.runwire")), "no SQLite file: the threads are in PostgreSQL"


def test_sigterm_drains_a_background_run(tmp_path: Path, postgres_dsn: str) -> None:
    with _replica(tmp_path, "b", postgres_dsn) as b:
        with _replica(tmp_path, "a", postgres_dsn) as a:

            async def start(client: Any) -> tuple[str, str]:
                tid = (await client.threads.create())["thread_id"]
                run = await client.runs.create(tid, "slow", input={"question": "drain"})
                await _until_in_slow_node(client, tid)
                return tid, run["run_id"]

            tid, run_id = sdk(a, start)
            assert a.stop() == 0  # SIGTERM: the drain waits for the background run

        async def check(client: Any) -> None:
            assert (await client.runs.get(tid, run_id))["status"] == "success"
            assert (await client.runs.join(tid, run_id))["done"] == "drain"
            assert (await client.threads.get(tid))["status"] == "idle"

        sdk(b, check)


def test_a_run_cut_by_the_drain_deadline_continues_on_the_other_replica(
    tmp_path: Path, postgres_dsn: str
) -> None:
    with _replica(tmp_path, "b", postgres_dsn) as b:
        with _replica(tmp_path, "a", postgres_dsn, RUNWIRE_SERVER__DRAIN_TIMEOUT_S="0.2") as a:

            async def start(client: Any) -> tuple[str, str]:
                tid = (await client.threads.create())["thread_id"]
                run = await client.runs.create(tid, "slow", input={"question": "cut"})
                await _until_in_slow_node(client, tid)
                return tid, run["run_id"]

            tid, run_id = sdk(a, start)
            a.stop()
            assert "continue them" in a.stderr  # the warning names what was stopped

        async def resume(client: Any) -> None:
            assert (await client.runs.get(tid, run_id))["status"] == "interrupted"
            thread = await client.threads.get(tid)
            assert thread["status"] == "idle"  # released: not held by the stopped replica
            state = await client.threads.get_state(tid)
            assert state["next"] == ["slow"] and state["values"]["first"] == "cut"
            done = await client.runs.wait(tid, "slow", input=None)  # from the last checkpoint
            assert done["done"] == "cut"

        sdk(b, resume)
