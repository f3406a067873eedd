"""`runwire serve` as a LangGraph Server: the official `langgraph-sdk` client against a real
server process (graph files, SQLite checkpoints): assistants, threads, runs, interrupts
and resume, stream modes, stateless runs, background runs, join, cancel, errors,
metrics and the access log; and LangServe's routes on a thread."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from graph_api_files import write_project
from serve_process import Served, clean_env, serving_process, wait_for


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("graphs")
    write_project(folder)
    env = clean_env(RUNWIRE_SERVER__MAX_BODY_BYTES="65536")
    with serving_process("runwire.yaml", cwd=folder, env=env) as server:
        yield server


def sdk(served: Served, test: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``test(client)`` with a langgraph-sdk async client of the server."""

    async def main() -> Any:
        client = get_client(url=served.url, api_key=None)
        try:
            return await test(client)
        finally:
            await client.http.client.aclose()

    return asyncio.run(main())


def test_assistants_one_per_graph(served: Served) -> None:
    async def test(client: Any) -> None:
        found = await client.assistants.search(limit=10)
        assert sorted(a["graph_id"] for a in found) == ["agent", "review", "slow"]  # no chain
        review = next(a for a in found if a["graph_id"] == "review")
        assert await client.assistants.get(review["assistant_id"]) == review
        assert (await client.assistants.get("review"))["assistant_id"] == review["assistant_id"]
        graph = await client.assistants.get_graph(review["assistant_id"])
        assert [n["id"] for n in graph["nodes"]] == [
            "__start__",
            "write",
            "ask",
            "publish",
            "__end__",
        ]
        assert {"source": "write", "target": "ask"} in graph["edges"]
        schemas = await client.assistants.get_schemas("review")
        assert schemas["graph_id"] == "review"
        assert list(schemas["input_schema"]["properties"]) == ["topic"]
        assert set(schemas["state_schema"]["properties"]) == {"topic", "draft", "verdict", "final"}
        assert await client.assistants.search(graph_id="slow", limit=5) == [
            a for a in found if a["graph_id"] == "slow"
        ]
        with pytest.raises(NotFoundError):
            await client.assistants.get("nope")

    sdk(served, test)


def test_an_interrupted_thread_is_resumed_with_a_command(served: Served) -> None:
    async def test(client: Any) -> None:
        thread = await client.threads.create(metadata={"user": "ada"})
        tid = thread["thread_id"]
        assert thread["status"] == "idle" and thread["metadata"] == {"user": "ada"}
        paused = await client.runs.wait(tid, "review", input={"topic": "cats"})
        assert paused["draft"] == "Draft about cats"
        (interrupt,) = paused["__interrupt__"]
        assert interrupt["value"] == {
            "question": "Publish this draft?",
            "input": "Draft about cats",
        }

        state = await client.threads.get_state(tid)
        assert state["next"] == ["ask"] and state["interrupts"] == [interrupt]
        assert state["checkpoint"]["thread_id"] == tid
        got = await client.threads.get(tid)
        assert got["status"] == "interrupted" and got["metadata"]["graph_id"] == "review"
        assert list(got["interrupts"].values()) == [[interrupt]]
        assert [t["thread_id"] for t in await client.threads.search(status="interrupted")] == [
            t["thread_id"]
            for t in await client.threads.search(status="interrupted")
            if t["metadata"].get("graph_id") == "review"
        ]
        assert tid in [
            t["thread_id"] for t in await client.threads.search(metadata={"user": "ada"})
        ]

        done = await client.runs.wait(tid, "review", command={"resume": "approved"})
        assert done["final"] == "Draft about cats (approved)" and "__interrupt__" not in done
        assert (await client.threads.get(tid))["status"] == "idle"
        history = await client.threads.get_history(tid, limit=20)
        assert history[0]["values"]["final"] == done["final"] and history[0]["next"] == []
        steps = [h["metadata"]["step"] for h in history]
        assert steps == sorted(steps, reverse=True)
        older = await client.threads.get_history(tid, limit=2, before=history[1]["checkpoint"])
        assert [h["checkpoint"] for h in older] == [h["checkpoint"] for h in history[2:4]]
        at = await client.threads.get_state(
            tid, checkpoint_id=history[2]["checkpoint"]["checkpoint_id"]
        )
        assert at["checkpoint"] == history[2]["checkpoint"] and at["values"]["topic"] == "cats"
        runs = await client.runs.list(tid)
        assert [r["status"] for r in runs] == ["success", "interrupted"]
        assert (await client.runs.get(tid, runs[0]["run_id"]))["run_id"] == runs[0]["run_id"]

    sdk(served, test)


def test_update_state_as_a_node(served: Served) -> None:
    async def test(client: Any) -> None:
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(tid, "review", input={"topic": "owls"})
        saved = await client.threads.update_state(tid, {"verdict": "edited"}, as_node="ask")
        assert saved["checkpoint"]["thread_id"] == tid
        state = await client.threads.get_state(tid)
        assert state["values"]["verdict"] == "edited" and state["next"] == ["publish"]
        done = await client.runs.wait(tid, "review", input=None)  # continue from there
        assert done["final"] == "Draft about owls (edited)"
        with pytest.raises(UnprocessableEntityError):
            await client.threads.update_state(tid, {"verdict": "x"}, as_node="nope")

    sdk(served, test)


def test_stream_several_modes(served: Served) -> None:
    async def test(client: Any) -> list[Any]:
        tid = (await client.threads.create())["thread_id"]
        return [
            part
            async for part in client.runs.stream(
                tid,
                "review",
                input={"topic": "bees"},
                stream_mode=["values", "updates", "messages-tuple", "messages"],
            )
        ]

    parts = sdk(served, test)
    events = [p.event for p in parts]
    assert events[0] == "metadata" and "run_id" in parts[0].data
    assert {"values", "updates", "messages", "messages/partial", "messages/metadata"} <= set(events)
    updates = [p.data for p in parts if p.event == "updates"]
    assert updates[0] == {"write": {"draft": "Draft about bees"}}
    assert "__interrupt__" in updates[-1]
    assert [p.data for p in parts if p.event == "values"][-1]["draft"] == "Draft about bees"
    tokens = [p.data[0]["content"] for p in parts if p.event == "messages"]
    assert "".join(tokens) == "Draft about bees" and len(tokens) > 1  # chunk_size 4
    partials = [p.data[0]["content"] for p in parts if p.event == "messages/partial"]
    assert partials[-1] == "Draft about bees" and partials[0] == tokens[0]
    (meta,) = [p.data for p in parts if p.event == "messages/metadata"]
    assert next(iter(meta.values()))["metadata"]["langgraph_node"] == "write"


def test_stateless_runs(served: Served) -> None:
    async def test(client: Any) -> tuple[Any, list[Any]]:
        waited = await client.runs.wait(None, "slow", input={"question": "hi"})
        streamed = [
            p
            async for p in client.runs.stream(
                None, "review", input={"topic": "x"}, stream_mode="updates"
            )
        ]
        return waited, streamed

    waited, streamed = sdk(served, test)
    assert waited == {"question": "hi", "first": "hi", "answer": "hi", "done": "hi"}
    assert [p.event for p in streamed] == ["metadata", "updates", "updates"]


def test_background_run_join_and_busy_thread(served: Served) -> None:
    async def test(client: Any) -> None:
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.create(tid, "slow", input={"question": "q"})
        assert run["status"] == "running" and run["thread_id"] == tid
        with pytest.raises(httpx.HTTPStatusError) as busy:  # one run per thread at a time
            await client.runs.wait(tid, "slow", input={"question": "again"})
        assert busy.value.response.status_code == 409
        assert (await client.threads.get(tid))["status"] == "busy"
        followed = [
            part
            async for part in client.runs.join_stream(tid, run["run_id"])  # from its start
        ]
        assert followed[0].event == "metadata"
        values = [part.data for part in followed if part.event == "values"]
        assert values[0] == {"question": "q"} and values[-1]["done"] == "q"
        joined = await client.runs.join(tid, run["run_id"])
        assert joined["done"] == "q"
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"

    sdk(served, test)


def test_cancel_leaves_a_thread_that_continues(served: Served) -> None:
    async def test(client: Any) -> None:
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.create(tid, "slow", input={"question": "c"})

        async def in_slow_node() -> bool:
            return (await client.threads.get_state(tid))["next"] == ["slow"]

        for _ in range(100):
            if await in_slow_node():
                break
            await asyncio.sleep(0.05)
        await client.runs.cancel(tid, run["run_id"], wait=True)
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
        thread = await client.threads.get(tid)
        assert thread["status"] == "idle"
        assert (await client.threads.get_state(tid))["next"] == ["slow"]
        with pytest.raises(ConflictError):
            await client.runs.cancel(tid, run["run_id"])  # it has ended
        done = await client.runs.wait(tid, "slow", input=None)  # continue where it stopped
        assert done["done"] == "c"

    sdk(served, test)


def test_thread_create_get_update_delete(served: Served) -> None:
    async def test(client: Any) -> None:
        thread = await client.threads.create(thread_id="t-fixed", metadata={"a": 1})
        assert thread["thread_id"] == "t-fixed"
        with pytest.raises(ConflictError):
            await client.threads.create(thread_id="t-fixed")
        same = await client.threads.create(thread_id="t-fixed", if_exists="do_nothing")
        assert same["created_at"] == thread["created_at"]
        updated = await client.threads.update("t-fixed", metadata={"b": 2})
        assert updated["metadata"] == {"a": 1, "b": 2}
        assert [t["thread_id"] for t in await client.threads.search(ids=["t-fixed"])] == ["t-fixed"]
        await client.runs.wait("t-fixed", "review", input={"topic": "t"})
        await client.threads.delete("t-fixed")
        with pytest.raises(NotFoundError):
            await client.threads.get("t-fixed")
        with pytest.raises(httpx.HTTPStatusError) as gone:
            await client.runs.wait("t-fixed", "review", input={"topic": "t"})
        assert gone.value.response.status_code == 404
        created = await client.runs.wait(
            "t-new", "review", input={"topic": "n"}, if_not_exists="create"
        )
        assert created["draft"] == "Draft about n"

    sdk(served, test)


def test_bad_requests_are_refused(served: Served) -> None:
    async def test(client: Any) -> None:
        tid = (await client.threads.create())["thread_id"]
        refusals = (
            {"input": ["not", "an", "object"]},  # the graph's input schema
            {"input": {"topic": "x"}, "webhook": "http://x"},  # an option not served
            {"input": {"topic": "x"}, "interrupt_before": ["zz"]},  # no such node
            {"input": {"topic": "x"}, "config": {"configurable": {"model": "x"}}},  # not allowed
        )
        for refused in refusals:
            with pytest.raises(httpx.HTTPStatusError) as error:
                await client.runs.wait(tid, "review", **refused)
            assert error.value.response.status_code == 422, refused
        with pytest.raises(httpx.HTTPStatusError) as missing:
            await client.runs.wait(tid, "no-such-graph", input={})
        assert missing.value.response.status_code == 404
        with pytest.raises(UnprocessableEntityError):
            await client.threads.search(status="sleeping")

    sdk(served, test)
    big = httpx.post(
        f"{served.url}/threads/search", json={"metadata": {"k": "x" * 70_000}}, timeout=10
    )
    assert big.status_code == 413
    unknown = httpx.post(f"{served.url}/threads", json={"thread_id": "a", "evil": 1}, timeout=10)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "evil"]


def test_langserve_routes_keep_a_thread(served: Served) -> None:
    config = {"configurable": {"thread_id": "ls-1"}}
    for question in ("hello", "again"):
        answer = httpx.post(
            f"{served.url}/agent/invoke",
            json={
                "input": {"messages": [{"type": "human", "content": question}]},
                "config": config,
            },
            timeout=20,
        )
        assert answer.status_code == 200, answer.text
    contents = [m["content"] for m in answer.json()["output"]["messages"]]
    assert contents == ["hello", "hello", "again", "again"]  # the thread kept the first turn
    stateless = httpx.post(
        f"{served.url}/agent/invoke",
        json={"input": {"messages": [{"type": "human", "content": "solo"}]}},
        timeout=20,
    )
    assert [m["content"] for m in stateless.json()["output"]["messages"]] == ["solo", "solo"]
    refused = httpx.post(
        f"{served.url}/agent/invoke",
        json={"input": {"messages": []}, "config": {"configurable": {"thread_id": 5}}},
        timeout=20,
    )
    assert refused.status_code == 422


def test_metrics_and_access_log(served: Served) -> None:
    async def test(client: Any) -> str:
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(tid, "review", input={"topic": "m"})
        return tid

    tid = sdk(served, test)
    text = httpx.get(f"{served.url}/metrics", timeout=10).text
    assert 'runwire_graph_runs_total{graph="review",outcome="interrupted"}' in text
    assert 'runwire_graph_interrupts_total{graph="review"}' in text
    assert 'runwire_graph_steps_total{graph="review"}' in text
    assert 'runwire_graph_run_duration_seconds_count{graph="review"}' in text
    assert 'route="/threads/{thread_id}/runs/wait"' in text  # a template, never an id
    assert tid not in text

    def logged() -> dict[str, Any] | None:
        for line in served.lines:
            if line.startswith("{") and f"/threads/{tid}/runs/wait" in line:
                return json.loads(line)
        return None

    line = wait_for(logged, 10, "the access-log line of the run")
    assert line["pipeline"] == "review" and line["thread_id"] == tid and line["status"] == 200
    assert line["run_id"]


def test_checkpoints_live_in_the_default_sqlite_file(served: Served) -> None:
    cwd = Path(f"/proc/{served.process.pid}/cwd").resolve()
    assert list((cwd / ".runwire").glob("checkpoints.*")), list(cwd.iterdir())


def test_runs_off_the_event_loop(tmp_path: Path) -> None:
    """``offload: always``: runs (their steps and checkpoint writes) on worker threads."""
    write_project(tmp_path)
    env = clean_env(RUNWIRE_SERVER__OFFLOAD="always")
    with serving_process("runwire.yaml", cwd=tmp_path, env=env) as server:

        async def test(client: Any) -> list[Any]:
            tid = (await client.threads.create())["thread_id"]
            paused = await client.runs.wait(tid, "review", input={"topic": "threads"})
            assert paused["__interrupt__"][0]["value"]["input"] == "Draft about threads"
            parts = [
                p
                async for p in client.runs.stream(
                    tid, "review", command={"resume": "ok"}, stream_mode="updates"
                )
            ]
            assert (await client.threads.get(tid))["values"]["final"] == "Draft about threads (ok)"
            return parts

        parts = sdk(server, test)
    assert [p.event for p in parts] == ["metadata", "updates", "updates"]


def test_api_keys_guard_the_graph_api(tmp_path: Path) -> None:
    write_project(tmp_path)
    env = clean_env(RUNWIRE_API_KEYS="k-graph")
    with serving_process("runwire.yaml", cwd=tmp_path, env=env) as server:
        refused = httpx.post(f"{server.url}/threads", json={}, timeout=10)
        assert refused.status_code == 401

        async def test(client: Any) -> Any:
            return await client.runs.wait(None, "slow", input={"question": "key"})

        async def keyed() -> Any:
            client = get_client(url=server.url, api_key="k-graph")  # sent as x-api-key
            try:
                return await test(client)
            finally:
                await client.http.client.aclose()

        assert asyncio.run(keyed())["done"] == "key"
