"""Streaming through core runnables, config helpers and callback runs, sync and async.

Streams are checked chunk by chunk by logging producer and consumer events in one list:
a step that streams interleaves them, a step that gathers its input does not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import runwire.runtime.callbacks as callbacks_module
from runwire.runtime.callbacks import Run
from runwire.runtime.config import (
    DEFAULT_RECURSION_LIMIT,
    RunnableConfig,
    ensure_config,
    get_config_list,
    merge_configs,
    patch_config,
)
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.parsers import JsonOutputParser, StrOutputParser
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick

JSON_PIECES = ['{"a": ', '1, "b"', ": [2]}"]


def producer(log: list[str], pieces: list[str]) -> RunnableGenerator[Any, str]:
    """A generator step yielding ``pieces`` (sync and async), logging each one."""

    def gen(chunks: Iterator[Any]) -> Iterator[str]:
        for _ in chunks:
            for piece in pieces:
                log.append(f"produce {piece}")
                yield piece

    async def agen(chunks: AsyncIterator[Any]) -> AsyncIterator[str]:
        async for _ in chunks:
            for piece in pieces:
                log.append(f"produce {piece}")
                yield piece

    return RunnableGenerator(gen, agen)


def consume(log: list[str], chunks: Iterator[Any]) -> list[Any]:
    out = []
    for chunk in chunks:
        log.append(f"consume {chunk}")
        out.append(chunk)
    return out


async def aconsume(log: list[str], chunks: AsyncIterator[Any]) -> list[Any]:
    out = []
    async for chunk in chunks:
        log.append(f"consume {chunk}")
        out.append(chunk)
    return out


# -- streaming ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_str_parser_after_a_generator_streams_chunk_by_chunk(mode: str) -> None:
    log: list[str] = []
    seq = producer(log, ["a", "b", "c"]) | RunnablePassthrough() | StrOutputParser()
    if mode == "sync":
        out = consume(log, seq.stream("go"))
    else:
        out = asyncio.run(aconsume(log, seq.astream("go")))
    assert out == ["a", "b", "c"]
    assert log == [f"{event} {c}" for c in "abc" for event in ("produce", "consume")]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_json_parser_after_a_generator_streams_partial_objects(mode: str) -> None:
    log: list[str] = []
    seq = producer(log, JSON_PIECES) | JsonOutputParser()
    if mode == "sync":
        out = consume(log, seq.stream("go"))
    else:
        out = asyncio.run(aconsume(log, seq.astream("go")))
    assert out == [{}, {"a": 1}, {"a": 1, "b": [2]}]
    assert [e.split()[0] for e in log] == ["produce", "consume"] * 3
    assert seq.invoke("go") == {"a": 1, "b": [2]}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_non_streaming_step_gathers_its_input(mode: str) -> None:
    log: list[str] = []
    seq = producer(log, ["a", "b", "c"]) | RunnableLambda(str.upper) | StrOutputParser()
    if mode == "sync":
        out = consume(log, seq.stream("go"))
    else:
        out = asyncio.run(aconsume(log, seq.astream("go")))
    assert out == ["ABC"]
    assert log == ["produce a", "produce b", "produce c", "consume ABC"]


def test_default_transform_gathers_input_then_invokes_once() -> None:
    calls: list[Any] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    lam = RunnableLambda(shout)
    assert list(lam.transform(iter(["ab", "c", "d"]))) == ["ABCD"]

    async def chunks() -> AsyncIterator[str]:
        for piece in ("x", "y"):
            yield piece

    async def collect() -> list[str]:
        return [c async for c in lam.atransform(chunks())]

    assert asyncio.run(collect()) == ["XY"]
    assert list(lam.transform(iter([]))) == []
    assert calls == ["abcd", "xy"]


def test_generator_gets_config_and_streams() -> None:
    def gen(chunks: Iterator[Any], config: RunnableConfig) -> Iterator[str]:
        for chunk in chunks:
            yield chunk
            yield from config["tags"]

    g = RunnableGenerator(gen)
    assert list(g.stream("x", {"tags": ["t1", "t2"]})) == ["x", "t1", "t2"]
    assert g.invoke("x", {"tags": ["t"]}) == "xt"


def _words(text: str, log: list[str]) -> Iterator[str]:
    for word in text.split():
        log.append(f"produce {word} ")
        yield word + " "


async def _awords(text: str, log: list[str]) -> AsyncIterator[str]:
    for word in text.split():
        log.append(f"produce {word} ")
        yield word + " "


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_generator_function_lambda_streams_what_it_yields(kind: str) -> None:
    log: list[str] = []
    step = RunnableLambda(_words if kind == "sync" else _awords).bind(log=log)
    if kind == "sync":
        assert step.invoke("a b") == "a b "  # the chunks added, as LangChain does
        chunks = consume(log, step.stream("c d"))
    else:
        assert asyncio.run(step.ainvoke("a b")) == "a b "
        chunks = asyncio.run(aconsume(log, step.astream("c d")))
    assert chunks == ["c ", "d "]
    assert log[-4:] == ["produce c ", "consume c ", "produce d ", "consume d "]  # as yielded


def test_a_generator_function_lambda_streams_through_a_sequence() -> None:
    log: list[str] = []
    chain = RunnableLambda(str.upper) | RunnableLambda(_words).bind(log=log) | StrOutputParser()
    assert consume(log, chain.stream("a b")) == ["A ", "B "]
    assert log == ["produce A ", "consume A ", "produce B ", "consume B "]
    assert asyncio.run(chain.ainvoke("x y")) == "X Y "  # a sync generator, off the loop


def test_a_lambda_gets_the_keyword_arguments_it_is_bound_with() -> None:
    step = RunnableLambda(lambda x, **kw: (x, kw))
    assert step.bind(k=1).invoke(0) == (0, {"k": 1})
    assert step.invoke(0, None, k=2) == (0, {"k": 2})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_parallel_assign_and_pick_stream_chunks_that_sum_to_the_output(mode: str) -> None:
    par = RunnableParallel(text=RunnablePassthrough(), upper=RunnableLambda(str.upper))
    assign = RunnablePassthrough.assign(n=lambda d: len(d["text"]))
    seq = par | assign | RunnablePick(["upper", "n"])

    async def alist(it: AsyncIterator[Any]) -> list[Any]:
        return [c async for c in it]

    def run(r: Any, value: Any) -> list[Any]:
        return list(r.stream(value)) if mode == "sync" else asyncio.run(alist(r.astream(value)))

    par_chunks = run(par, "hi")
    assert sorted(list(c) for c in par_chunks) == [["text"], ["upper"]]
    total: Any = {}
    for chunk in par_chunks:
        total = {**total, **chunk}
    assert total == par.invoke("hi") == {"text": "hi", "upper": "HI"}
    merged: dict[str, Any] = {}
    for chunk in run(assign, {"text": "abc"}):
        merged.update(chunk)
    assert merged == assign.invoke({"text": "abc"}) == {"text": "abc", "n": 3}
    merged = {}
    for chunk in run(seq, "hey"):
        merged.update(chunk)
    assert merged == seq.invoke("hey") == {"upper": "HEY", "n": 3}


def test_assign_streams_its_input_before_the_computed_keys() -> None:
    assign = RunnablePassthrough.assign(n=lambda d: len(d["text"]))
    assert list(assign.stream({"text": "abc"})) == [{"text": "abc"}, {"n": 3}]


def test_assign_astreams_its_input_before_the_computed_keys() -> None:
    assign = RunnablePassthrough.assign(n=lambda d: len(d["text"]))

    async def collect() -> list[Any]:
        return [c async for c in assign.astream({"text": "abc"})]

    assert asyncio.run(collect()) == [{"text": "abc"}, {"n": 3}]


def test_dict_chunks_gathered_by_a_later_step_add_up() -> None:
    par = RunnableParallel(text=RunnablePassthrough(), upper=RunnableLambda(str.upper))
    seq = par | RunnableLambda(sorted)  # the lambda gathers the parallel's chunks
    assert list(seq.stream("hi")) == [seq.invoke("hi")] == [["text", "upper"]]
    assigned = RunnablePassthrough.assign(n=lambda d: 1) | RunnableLambda(sorted)
    assert list(assigned.stream({"a": 0})) == [["a", "n"]]


def test_picked_dict_chunks_gathered_by_a_later_step_add_up() -> None:
    par = RunnableParallel(text=RunnablePassthrough(), upper=RunnableLambda(str.upper), n=len)
    seq = par | RunnablePick(["text", "upper"]) | RunnableLambda(sorted)
    assert seq.invoke("hi") == ["text", "upper"]
    assert list(seq.stream("hi")) == [["text", "upper"]]


@pytest.mark.parametrize(
    "mode",
    [
        "sync",
        "async",
    ],
)
def test_pick_streams_chunk_by_chunk(mode: str) -> None:
    log: list[str] = []
    seq = producer(log, JSON_PIECES) | JsonOutputParser() | RunnablePick("a")
    if mode == "sync":
        out = consume(log, seq.stream("go"))
    else:
        out = asyncio.run(aconsume(log, seq.astream("go")))
    assert out == [1, 1]
    assert [e.split()[0] for e in log] == ["produce", "produce", "consume", "produce", "consume"]


def test_passthrough_func_sees_the_whole_streamed_input_once() -> None:
    seen: list[Any] = []
    aseen: list[Any] = []

    async def arecord(x: Any) -> None:
        aseen.append(x)

    log: list[str] = []
    seq = producer(log, ["a", "b"]) | RunnablePassthrough(func=seen.append, afunc=arecord)
    assert list(seq.stream("go")) == ["a", "b"]

    async def collect() -> list[Any]:
        return [c async for c in seq.astream("go")]

    assert asyncio.run(collect()) == ["a", "b"]
    assert seen == ["ab"]
    assert aseen == ["ab"]


# -- config --------------------------------------------------------------------------------


def test_ensure_config_defaults_and_copies() -> None:
    assert ensure_config() == {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        "configurable": {},
    }
    assert DEFAULT_RECURSION_LIMIT == 25
    given: RunnableConfig = {"tags": ["a"], "metadata": {"k": 1}, "configurable": {"x": 1}}
    full = ensure_config(given)
    full["tags"].append("b")
    full["metadata"]["j"] = 2
    full["configurable"]["y"] = 2
    assert given == {"tags": ["a"], "metadata": {"k": 1}, "configurable": {"x": 1}}
    assert ensure_config({"tags": None, "run_name": "r"})["tags"] == []  # type: ignore[typeddict-item]
    assert ensure_config({"run_name": "r"})["run_name"] == "r"


def test_merge_configs() -> None:
    h1, h2 = object(), object()
    merged = merge_configs(
        {"tags": ["b", "a"], "metadata": {"k": 1, "j": 1}, "configurable": {"x": 1}},
        None,
        {"tags": ["c", "a"], "metadata": {"k": 2}, "configurable": {"y": 2}, "run_name": "r"},
    )
    assert merged["tags"] == ["a", "b", "c"]
    assert merged["metadata"] == {"k": 2, "j": 1}
    assert merged["configurable"] == {"x": 1, "y": 2}
    assert merged["run_name"] == "r"
    assert merge_configs({"callbacks": [h1]}, {"callbacks": [h2]})["callbacks"] == [h1, h2]
    assert merge_configs({"callbacks": [h1]}, {})["callbacks"] == [h1]
    # a later default recursion limit does not undo an earlier explicit one
    assert merge_configs({"recursion_limit": 10}, {"recursion_limit": 25})["recursion_limit"] == 10
    assert merge_configs({"recursion_limit": 10}, {"recursion_limit": 5})["recursion_limit"] == 5
    assert merge_configs({}, {})["recursion_limit"] == 25


def test_patch_config() -> None:
    rid = uuid.uuid4()
    base: RunnableConfig = {"run_name": "r", "run_id": rid, "configurable": {"a": 1}}
    patched = patch_config(
        base, recursion_limit=3, max_concurrency=2, configurable={"b": 2}, run_name="s"
    )
    assert patched["recursion_limit"] == 3
    assert patched["max_concurrency"] == 2
    assert patched["configurable"] == {"a": 1, "b": 2}
    assert patched["run_name"] == "s"
    assert patched["run_id"] == rid
    assert base == {"run_name": "r", "run_id": rid, "configurable": {"a": 1}}
    handler = object()
    moved = patch_config(base, callbacks=[handler])
    assert moved["callbacks"] == [handler]
    assert "run_name" not in moved
    assert "run_id" not in moved


def test_get_config_list() -> None:
    rid = uuid.uuid4()
    configs = get_config_list({"run_id": rid, "tags": ["t"]}, 3)
    assert [c.get("run_id") for c in configs] == [rid, None, None]
    assert all(c["tags"] == ["t"] for c in configs)
    configs[1]["tags"].append("mutated")
    assert configs[2]["tags"] == ["t"]
    assert get_config_list({"run_id": rid}, 1)[0]["run_id"] == rid
    assert [c["tags"] for c in get_config_list([{"tags": ["x"]}, {}], 2)] == [["x"], []]
    with pytest.raises(ValueError, match="same length"):
        get_config_list([{}, {}], 3)
    with pytest.raises(ValueError, match="length"):
        get_config_list(None, -1)


def seen_config(log: list[RunnableConfig]) -> RunnableLambda[Any, Any]:
    def record(x: Any, config: RunnableConfig) -> Any:
        log.append(config)
        return x

    return RunnableLambda(record)


@pytest.mark.parametrize("with_callbacks", [False, True])
def test_run_name_and_run_id_are_not_inherited_by_children(with_callbacks: bool) -> None:
    log: list[RunnableConfig] = []
    seq = RunnablePassthrough() | seen_config(log)
    config: RunnableConfig = {"run_name": "root", "run_id": uuid.uuid4(), "tags": ["t"]}
    if with_callbacks:
        config["callbacks"] = [object()]
    seq.invoke(1, config)
    asyncio.run(seq.ainvoke(1, config))
    list(seq.stream(1, config))
    assert len(log) == 3
    for child in log:
        assert "run_name" not in child
        assert "run_id" not in child
        assert "t" in child["tags"]


def test_lambda_function_gets_a_child_config_without_callbacks() -> None:
    log: list[RunnableConfig] = []
    seen_config(log).invoke(1, {"run_name": "root", "run_id": uuid.uuid4()})
    assert "run_name" not in log[0]
    assert "run_id" not in log[0]


# -- callbacks -------------------------------------------------------------------------------


@dataclass
class Event:
    event: str
    id: uuid.UUID
    name: str
    run_type: str
    tags: list[str]
    parent_ids: list[str]
    inputs: Any
    outputs: Any


class Recorder:
    """A handler recording a snapshot of the run at every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def _add(self, event: str, run: Run) -> None:
        self.events.append(
            Event(
                event,
                run.id,
                run.name,
                run.run_type,
                list(run.tags),
                list(run.parent_ids),
                run.inputs,
                run.outputs,
            )
        )

    def on_start(self, run: Run) -> None:
        self._add("start", run)

    def on_end(self, run: Run) -> None:
        self._add("end", run)

    def on_error(self, run: Run) -> None:
        self._add("error", run)

    def ends(self) -> dict[str, Event]:
        """End event by run name (names are unique in the traced chains)."""
        return {e.name: e for e in self.events if e.event == "end"}


def traced_chain() -> Any:
    """step 1 | {"a": (inc | dbl), "b": sq} | total  --  traced_chain().invoke(1) == 10"""

    def inc(x: int) -> int:
        return x + 1

    def dbl(x: int) -> int:
        return x * 2

    def sq(x: int) -> int:
        return x * x

    def total(d: dict[str, int]) -> int:
        return d["a"] + d["b"]

    inner = RunnableLambda(inc, name="inner_inc").pipe(dbl, name="inner")
    return RunnableLambda(inc) | {"a": inner, "b": sq} | RunnableLambda(total)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream", "astream"])
def test_callbacks_see_the_run_tree(mode: str) -> None:
    rec = Recorder()
    rid = uuid.uuid4()
    config: RunnableConfig = {
        "callbacks": [rec],
        "tags": ["T"],
        "run_name": "root",
        "run_id": rid,
    }
    chain = traced_chain()

    async def alast() -> Any:
        return [c async for c in chain.astream(1, config)][-1]

    calls = {
        "invoke": lambda: chain.invoke(1, config),
        "ainvoke": lambda: asyncio.run(chain.ainvoke(1, config)),
        "stream": lambda: list(chain.stream(1, config))[-1],
        "astream": lambda: asyncio.run(alast()),
    }
    assert calls[mode]() == 10
    runs = rec.ends()
    assert set(runs) == {
        "root",
        "inc",
        "RunnableParallel<a,b>",
        "inner",
        "inner_inc",
        "dbl",
        "sq",
        "total",
    }
    starts = [e for e in rec.events if e.event == "start"]
    assert len(starts) == 8
    assert {e.id for e in starts} == {e.id for e in runs.values()}
    assert all(e.run_type == "chain" for e in rec.events)

    root = runs["root"]
    assert root.id == rid
    assert [e.id for e in rec.events].count(rid) == 2  # its start and end only
    assert root.parent_ids == []
    assert root.tags == ["T"]
    assert (root.inputs, root.outputs) == (1, 10)
    par = runs["RunnableParallel<a,b>"]
    inner = runs["inner"]
    expected = {
        # name: (parent chain, the one-run tag it must carry)
        "inc": ([rid], "seq:step:1"),
        "RunnableParallel<a,b>": ([rid], "seq:step:2"),
        "total": ([rid], "seq:step:3"),
        "inner": ([rid, par.id], "map:key:a"),
        "sq": ([rid, par.id], "map:key:b"),
        "inner_inc": ([rid, par.id, inner.id], "seq:step:1"),
        "dbl": ([rid, par.id, inner.id], "seq:step:2"),
    }
    for name, (parents, tag) in expected.items():
        run = runs[name]
        assert run.parent_ids == [str(p) for p in parents], name
        assert sorted(run.tags) == sorted(["T", tag]), name
    assert (par.inputs, par.outputs) == (2, {"a": 6, "b": 4})
    assert (runs["total"].inputs, runs["total"].outputs) == ({"a": 6, "b": 4}, 10)
    assert (runs["dbl"].inputs, runs["dbl"].outputs) == (3, 6)


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
def test_callbacks_on_error(mode: str) -> None:
    rec = Recorder()
    after: list[Any] = []

    def boom(x: Any) -> Any:
        raise KeyError("boom")

    chain = RunnableLambda(lambda x: x, name="ok") | RunnableLambda(boom) | after.append
    config: RunnableConfig = {"callbacks": [rec]}
    with pytest.raises(KeyError, match="boom"):
        if mode == "invoke":
            chain.invoke(1, config)
        elif mode == "ainvoke":
            asyncio.run(chain.ainvoke(1, config))
        else:
            list(chain.stream(1, config))
    events = [(e.event, e.name) for e in rec.events]
    assert ("end", "ok") in events
    assert ("error", "boom") in events
    assert ("error", "RunnableSequence") in events
    assert ("end", "RunnableSequence") not in events
    assert all(name != "append" for _, name in events)
    assert after == []


def test_handlers_may_implement_only_some_methods() -> None:
    ended: list[str] = []

    class OnlyEnd:
        def on_end(self, run: Run) -> None:
            ended.append(run.name)

    chain = RunnablePassthrough() | RunnableLambda(lambda x: x + 1, name="inc")
    config: RunnableConfig = {"callbacks": [OnlyEnd(), object()]}
    assert chain.invoke(1, config) == 2
    assert list(chain.stream(1, config)) == [2]
    with pytest.raises(TypeError):
        chain.invoke("x", config)
    assert ended.count("RunnableSequence") == 2
    assert ended.count("inc") == 2


def test_no_callbacks_means_no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real_run = callbacks_module.Run

    def counting_run(*args: Any, **kwargs: Any) -> Run:
        made.append(kwargs.get("name", "?"))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(callbacks_module, "Run", counting_run)
    chain = traced_chain()
    assert chain.invoke(1) == 10
    assert asyncio.run(chain.ainvoke(1)) == 10
    assert list(chain.stream(1))[-1] == 10
    assert chain.batch([1, 1]) == [10, 10]
    assert made == []
    chain.invoke(1, {"callbacks": [Recorder()]})  # the counter does see traced runs
    assert len(made) == 8


def test_an_async_function_beside_a_sync_generator_streams_its_own_output() -> None:
    async def whole(text: str) -> str:
        return text.upper()

    def letters(text: str) -> Iterator[str]:
        yield from text

    step = RunnableLambda(letters, afunc=whole)
    assert list(step.stream("ab")) == ["a", "b"]
    assert asyncio.run(aconsume([], step.astream("ab"))) == ["AB"]
