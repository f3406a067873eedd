"""astream_events (v2): event order and fields, streaming, custom events, filters, errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest

from runwire.runtime.base import Runnable
from runwire.runtime.callbacks import Run, RunType
from runwire.runtime.config import RunnableConfig
from runwire.runtime.configurable import ConfigurableField
from runwire.runtime.events import (
    EventFilter,
    adispatch_custom_event,
    dispatch_custom_event,
)
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.schema.messages import AIMessageChunk, HumanMessage

# -- test-local runnables --------------------------------------------------------------


class Double(Runnable[int, int]):
    """An invoke-only step: its run knows its input at start."""

    name = "double"
    sync_is_cheap = True

    def invoke(self, input: int, config: RunnableConfig | None = None, **kwargs: Any) -> int:
        return self._call_with_config(lambda value, _: value * 2, input, config)


class FakeChat(Runnable[Any, AIMessageChunk]):
    """A streaming chat model: one AIMessageChunk per word of its input."""

    name = "fake_chat"
    run_type: ClassVar[RunType] = "chat_model"

    def _words(self, chunks: Iterator[Any], config: RunnableConfig) -> Iterator[AIMessageChunk]:
        text = " ".join(str(c) for c in chunks)
        for word in text.split():
            yield AIMessageChunk(content=word, id="run-1")

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        yield from self._transform_with_config(input, self._words, config)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        yield from self.transform(iter([input]), config)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessageChunk:
        final: Any = None
        for chunk in self.stream(input, config):
            final = chunk if final is None else final + chunk
        return final

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        async def words(
            chunks: AsyncIterator[Any], cfg: RunnableConfig
        ) -> AsyncIterator[AIMessageChunk]:
            for chunk in self._words(iter([c async for c in chunks]), cfg):
                yield chunk

        async for chunk in self._atransform_with_config(input, words, config):
            yield chunk

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk


class Typed(Runnable[Any, Any]):
    """An invoke-only step of any run type; raises when its output is an exception."""

    def __init__(self, run_type: RunType, output: Any, name: str = "typed") -> None:
        self.run_type = run_type  # type: ignore[misc]
        self.output = output
        self.name = name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def run(value: Any, _: RunnableConfig) -> Any:
            if isinstance(self.output, BaseException):
                raise self.output
            return self.output

        return self._call_with_config(run, input, config)


def twice_sync(chunks: Iterator[int]) -> Iterator[str]:
    for chunk in chunks:
        yield str(chunk)
        yield str(chunk + 1)


async def twice(chunks: AsyncIterator[int]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield str(chunk)
        yield str(chunk + 1)


def gen_step() -> RunnableGenerator[int, str]:
    """Streams two string chunks per input: 6 -> "6", "7" (output "67")."""
    return RunnableGenerator(twice_sync, twice, name="twice")


async def collect(runnable: Any, value: Any, config: Any = None, **kwargs: Any) -> list[Any]:
    return [event async for event in runnable.astream_events(value, config, **kwargs)]


def events_of(runnable: Any, value: Any, config: Any = None, **kwargs: Any) -> list[Any]:
    return asyncio.run(collect(runnable, value, config, **kwargs))


def brief(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["event"], e["name"]) for e in events]


KEYS = {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}


# -- a three-step sequence -------------------------------------------------------------


def test_three_step_sequence_events_exactly() -> None:
    chain = Double() | gen_step() | FakeChat()
    events = events_of(chain, 3, {"tags": ["t"], "metadata": {"user": "u1"}})
    # each streaming step starts once its first input chunk exists (LangChain's order)
    assert brief(events) == [
        ("on_chain_start", "RunnableSequence"),
        ("on_chain_start", "double"),
        ("on_chain_end", "double"),
        ("on_chain_start", "twice"),
        ("on_chain_stream", "twice"),
        ("on_chat_model_start", "fake_chat"),
        ("on_chain_stream", "twice"),
        ("on_chain_end", "twice"),
        ("on_chat_model_stream", "fake_chat"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_chat_model_stream", "fake_chat"),
        ("on_chain_stream", "RunnableSequence"),
        ("on_chat_model_end", "fake_chat"),
        ("on_chain_end", "RunnableSequence"),
    ]
    assert all(set(e) == KEYS for e in events)
    by_name = {e["name"]: e for e in events}
    root_id = events[0]["run_id"]
    assert uuid.UUID(root_id)
    assert len({e["run_id"] for e in events}) == 4
    for event in events:
        expected_parents = [] if event["run_id"] == root_id else [root_id]
        assert event["parent_ids"] == expected_parents
        assert event["metadata"] == {"user": "u1"}
    step_tags = {"double": "seq:step:1", "twice": "seq:step:2", "fake_chat": "seq:step:3"}
    for name, tag in step_tags.items():
        assert sorted(by_name[name]["tags"]) == sorted(["t", tag])
    assert events[0]["tags"] == ["t"]
    data = [e["data"] for e in events]
    assert data[0] == {"input": 3}  # the root's start carries the call's input
    assert data[1] == {"input": 3}
    assert data[2] == {"output": 6, "input": 3}
    assert data[3] == data[5] == {}  # streaming runs learn their input at their end
    assert [data[4], data[6]] == [{"chunk": "6"}, {"chunk": "7"}]
    assert data[7] == {"output": "67", "input": 6}
    assert data[8] == {"chunk": AIMessageChunk(content="6", id="run-1")}
    assert data[9] == {"chunk": AIMessageChunk(content="6", id="run-1")}
    assert data[10] == {"chunk": AIMessageChunk(content="7", id="run-1")}
    assert data[12] == {
        "output": AIMessageChunk(content="67", id="run-1"),
        "input": {"messages": [[HumanMessage(content="67")]]},
    }
    assert data[13] == {"output": AIMessageChunk(content="67", id="run-1")}  # no input


def test_nested_runs_list_their_parents_outermost_first() -> None:
    inner = RunnableParallel({"d": Double() | Double()})
    chain = RunnablePassthrough() | inner
    events = events_of(chain, 1)
    root = events[0]["run_id"]
    parallel = next(e for e in events if e["name"] == "RunnableParallel<d>")
    assert parallel["parent_ids"] == [root]
    inner_seq = next(
        e
        for e in events
        if e["name"] == "RunnableSequence" and e["run_id"] != root and "start" in e["event"]
    )
    assert inner_seq["parent_ids"] == [root, parallel["run_id"]]
    doubles = [e for e in events if e["name"] == "double" and e["event"] == "on_chain_start"]
    assert [d["parent_ids"] for d in doubles] == [
        [root, parallel["run_id"], inner_seq["run_id"]]
    ] * 2
    assert "map:key:d" in inner_seq["tags"]


def test_lambda_root_gets_start_stream_end() -> None:
    events = events_of(RunnableLambda(lambda x: x * 2, name="dbl"), 3)
    assert brief(events) == [
        ("on_chain_start", "dbl"),
        ("on_chain_stream", "dbl"),
        ("on_chain_end", "dbl"),
    ]
    assert [e["data"] for e in events] == [{"input": 3}, {"chunk": 6}, {"output": 6}]
    assert len({e["run_id"] for e in events}) == 1


def test_generator_root_streams_each_chunk_and_starts_with_the_input() -> None:
    events = events_of(gen_step(), 5)
    assert brief(events) == [
        ("on_chain_start", "twice"),
        ("on_chain_stream", "twice"),
        ("on_chain_stream", "twice"),
        ("on_chain_end", "twice"),
    ]
    assert [e["data"] for e in events] == [
        {"input": 5},
        {"chunk": "5"},
        {"chunk": "6"},
        {"output": "56"},
    ]


def test_run_id_and_run_name_of_the_config_name_the_root() -> None:
    run_id = uuid.uuid4()
    events = events_of(Double() | Double(), 1, {"run_id": run_id, "run_name": "mine"})
    assert events[0]["run_id"] == str(run_id)
    assert events[0]["name"] == "mine"
    assert events[-1]["name"] == "mine"
    assert all(e["name"] != "mine" for e in events if e["run_id"] != str(run_id))


def test_chat_model_root_events() -> None:
    events = events_of(FakeChat(), "hello there")
    assert brief(events) == [
        ("on_chat_model_start", "fake_chat"),
        ("on_chat_model_stream", "fake_chat"),
        ("on_chat_model_stream", "fake_chat"),
        ("on_chat_model_end", "fake_chat"),
    ]
    assert events[0]["data"] == {"input": "hello there"}
    assert [e["data"]["chunk"].content for e in events[1:3]] == ["hello", "there"]
    assert events[-1]["data"] == {"output": AIMessageChunk(content="hellothere", id="run-1")}


@pytest.mark.parametrize(
    ("run_type", "output", "start", "end"),
    [
        (
            "llm",
            "text",
            {"input": {"prompts": ["q"]}},
            {
                "output": {
                    "generations": [
                        [{"text": "text", "generation_info": None, "type": "Generation"}]
                    ],
                    "llm_output": None,
                },
                "input": {"prompts": ["q"]},
            },
        ),
        (
            "retriever",
            ["doc"],
            {"input": {"query": "q"}},
            {"output": ["doc"], "input": {"query": "q"}},
        ),
        ("prompt", "filled", {"input": "q"}, {"output": "filled", "input": "q"}),
        ("tool", "42", {"input": "q"}, {"output": "42", "input": "q"}),
    ],
)
def test_model_like_runs_report_langchains_shapes(
    run_type: RunType, output: Any, start: Any, end: Any
) -> None:
    step = Typed(run_type, output, name="step")
    events = events_of(RunnablePassthrough() | step, "q")
    mine = [e for e in events if e["name"] == "step"]
    assert [e["event"] for e in mine] == [f"on_{run_type}_start", f"on_{run_type}_end"]
    assert mine[0]["data"] == start
    assert mine[1]["data"] == end


def test_falsy_inputs_end_as_empty_dicts_like_langchain() -> None:
    events = events_of(RunnablePassthrough() | Double(), 0)
    end = next(e for e in events if e["name"] == "double" and e["event"] == "on_chain_end")
    assert end["data"] == {"output": 0, "input": {}}


# -- parallel branches -----------------------------------------------------------------


def test_parallel_branches_are_tagged_with_their_key() -> None:
    par = RunnableParallel({"a": Double(), "b": gen_step()})
    events = events_of(par, 2)
    root = events[0]
    assert root["name"] == "RunnableParallel<a,b>"
    assert root["data"] == {"input": 2}
    branch = {e["name"]: e for e in events if e["event"] == "on_chain_start" and e is not root}
    assert branch["double"]["tags"] == ["map:key:a"]
    assert branch["twice"]["tags"] == ["map:key:b"]
    assert {tuple(b["parent_ids"]) for b in branch.values()} == {(root["run_id"],)}
    ends = {e["name"]: e["data"]["output"] for e in events if e["event"] == "on_chain_end"}
    assert ends["double"] == 4
    assert ends["twice"] == "23"
    root_chunks = [
        e["data"]["chunk"]
        for e in events
        if e["run_id"] == root["run_id"] and e["event"] == "on_chain_stream"
    ]
    assert sorted(map(str, root_chunks)) == ["{'a': 4}", "{'b': '2'}", "{'b': '3'}"]


# -- custom events ---------------------------------------------------------------------


def test_custom_events_from_sync_and_async_functions() -> None:
    def sync_step(x: int, config: RunnableConfig) -> int:
        dispatch_custom_event("progress", {"step": "sync", "x": x}, config)
        return x + 1

    async def async_step(x: int, config: RunnableConfig) -> int:
        await adispatch_custom_event("progress", {"step": "async", "x": x}, config=config)
        return x + 1

    chain = RunnableLambda(sync_step, name="s") | RunnableLambda(async_step, name="a")
    events = events_of(chain, 1, {"tags": ["t"], "metadata": {"k": "v"}})
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert [e["data"] for e in custom] == [{"step": "sync", "x": 1}, {"step": "async", "x": 2}]
    assert [e["name"] for e in custom] == ["progress", "progress"]
    starts = {e["name"]: e for e in events if e["event"] == "on_chain_start"}
    assert [e["run_id"] for e in custom] == [starts["s"]["run_id"], starts["a"]["run_id"]]
    root = starts["RunnableSequence"]["run_id"]
    assert all(e["parent_ids"] == [root] for e in custom)
    assert all(e["tags"] == ["t"] for e in custom)  # inherited tags only, no seq:step:N
    assert all(e["metadata"] == {"k": "v"} for e in custom)
    # each custom event comes after its run's start and before its run's end
    order = [(e["event"], e["name"]) for e in events]
    assert order.index(("on_custom_event", "progress")) > order.index(("on_chain_start", "s"))
    assert order.index(("on_custom_event", "progress")) < order.index(("on_chain_end", "s"))


def test_custom_events_from_a_generator() -> None:
    async def gen(chunks: AsyncIterator[int], config: RunnableConfig) -> AsyncIterator[int]:
        async for chunk in chunks:
            await adispatch_custom_event("seen", chunk, config)
            yield chunk

    events = events_of(RunnableGenerator(gen, name="g"), 7)
    assert brief(events) == [
        ("on_chain_start", "g"),
        ("on_custom_event", "seen"),
        ("on_chain_stream", "g"),
        ("on_chain_end", "g"),
    ]
    assert events[1]["data"] == 7
    assert events[1]["parent_ids"] == []


def test_dispatch_outside_a_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="needs the config of the current run"):
        dispatch_custom_event("x", 1)
    with pytest.raises(RuntimeError, match="only be dispatched from inside a run"):
        dispatch_custom_event("x", 1, {"callbacks": [object()]})
    with pytest.raises(RuntimeError, match="only be dispatched from inside a run"):
        asyncio.run(adispatch_custom_event("x", 1, {"callbacks": [object()]}))


def test_dispatch_without_handlers_is_a_no_op() -> None:
    def step(x: int, config: RunnableConfig) -> int:
        dispatch_custom_event("ignored", x, config)
        return x

    assert RunnableLambda(step).invoke(3) == 3


def test_custom_events_reach_other_handlers() -> None:
    seen: list[tuple[str, Any, str]] = []

    class Handler:
        def on_custom_event(self, run: Run, name: str, data: Any) -> None:
            seen.append((name, data, run.name))

    def step(x: int, config: RunnableConfig) -> int:
        dispatch_custom_event("ping", x, config)
        return x

    assert RunnableLambda(step, name="st").invoke(3, {"callbacks": [Handler()]}) == 3
    assert seen == [("ping", 3, "st")]
    seen.clear()
    events = events_of(RunnableLambda(step, name="st"), 4, {"callbacks": [Handler()]})
    assert seen == [("ping", 4, "st")]
    assert [e["data"] for e in events if e["event"] == "on_custom_event"] == [4]


# -- filters ---------------------------------------------------------------------------


def sample_chain() -> Any:
    def shout(x: Any, config: RunnableConfig) -> Any:
        dispatch_custom_event("note", "hi", config)
        return x

    return (
        Double()
        | RunnableLambda(shout, name="shout").with_config(tags=["loud"])
        | gen_step()
        | FakeChat()
    )


def names_of(**filters: Any) -> list[tuple[str, str]]:
    return brief(events_of(sample_chain(), 1, **filters))


def test_include_names() -> None:
    got = names_of(include_names=["double"])
    assert got == [("on_chain_start", "double"), ("on_chain_end", "double")]


def test_include_types_and_custom_event_names_count_as_types() -> None:
    got = names_of(include_types=["chat_model", "note"])
    assert set(got) == {
        ("on_chat_model_start", "fake_chat"),
        ("on_chat_model_stream", "fake_chat"),
        ("on_chat_model_end", "fake_chat"),
        ("on_custom_event", "note"),
    }


def test_include_tags() -> None:
    got = names_of(include_tags=["seq:step:3"])
    assert {name for _, name in got} == {"twice"}
    loud = names_of(include_tags=["loud"])
    assert {name for _, name in loud} == {"shout", "note"}  # the custom event inherits it


def test_excludes_apply_after_includes() -> None:
    got = names_of(include_types=["chain"], exclude_names=["RunnableSequence"])
    assert {name for _, name in got} == {"double", "shout", "twice"}
    assert all(name != "fake_chat" for _, name in names_of(exclude_types=["chat_model"]))
    assert all(name != "twice" for _, name in names_of(exclude_tags=["seq:step:3"]))
    assert names_of(include_names=["double"], exclude_tags=["seq:step:1"]) == []


def test_the_first_event_sent_gets_the_call_input_as_in_langchain() -> None:
    events = events_of(sample_chain(), 1, include_names=["twice"])
    assert events[0]["event"] == "on_chain_start"
    assert events[0]["data"] == {"input": 1}  # LangChain's quirk: the root's input
    assert "input" not in events[-1]["data"]


def test_event_filter_rules() -> None:
    everything = EventFilter()
    assert everything.accepts("x", "chain", [])
    by_name = EventFilter(include_names=["a"], include_tags=["t"])
    assert by_name.accepts("a", "chain", [])
    assert by_name.accepts("b", "chain", ["t"])
    assert not by_name.accepts("b", "chain", ["u"])
    assert not EventFilter(exclude_types=["chain"]).accepts("a", "chain", [])
    assert not EventFilter(include_names=["a"], exclude_tags=["t"]).accepts("a", "chain", ["t"])


# -- errors ----------------------------------------------------------------------------


def test_errors_reach_the_consumer_after_the_events_sent_before() -> None:
    async def broken(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        async for chunk in chunks:
            yield chunk
            raise ValueError("broke mid-stream")

    chain = Double() | RunnableGenerator(broken, name="broken")
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in chain.astream_events(1):
            received.append(event)

    with pytest.raises(ValueError, match="broke mid-stream"):
        asyncio.run(consume())
    assert brief(received) == [
        ("on_chain_start", "RunnableSequence"),
        ("on_chain_start", "double"),
        ("on_chain_end", "double"),
        ("on_chain_start", "broken"),
        ("on_chain_stream", "broken"),
        ("on_chain_stream", "RunnableSequence"),
    ]  # failed chains send no end and no error event (LangChain)


def test_tool_errors_are_events() -> None:
    boom = RuntimeError("tool broke")
    chain = RunnablePassthrough() | Typed("tool", boom, name="calc")
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for event in chain.astream_events({"a": 1}):
            received.append(event)

    with pytest.raises(RuntimeError, match="tool broke"):
        asyncio.run(consume())
    error = received[-1]
    assert error["event"] == "on_tool_error"
    assert error["data"] == {"error": boom, "input": {"a": 1}, "tool_call_id": None}


def test_stopping_early_cancels_the_run() -> None:
    finished: list[str] = []

    async def slow(chunks: AsyncIterator[int]) -> AsyncIterator[int]:
        try:
            async for chunk in chunks:
                for i in range(1000):
                    yield chunk + i
                    await asyncio.sleep(0)
        finally:
            finished.append("closed")

    async def first_three() -> list[dict[str, Any]]:
        got = []
        stream = RunnableGenerator(slow, name="slow").astream_events(0)
        async for event in stream:
            got.append(event)
            if len(got) == 3:
                break
        await stream.aclose()
        return got

    got = asyncio.run(first_three())
    assert brief(got)[0] == ("on_chain_start", "slow")
    assert finished == ["closed"]


def test_only_v2_is_implemented() -> None:
    with pytest.raises(NotImplementedError, match="v2"):
        Double().astream_events(1, version="v1")


# -- configurable runnables and bookkeeping --------------------------------------------


def test_configurable_runnables_show_the_configured_runnable() -> None:
    alt = RunnablePassthrough().configurable_alternatives(
        ConfigurableField(id="step"), pick=RunnablePick(keys="a")
    )
    events = events_of(alt, {"a": 1}, {"configurable": {"step": "pick"}})
    assert {e["name"] for e in events} == {"RunnablePick<a>"}
    assert events[-1]["data"] == {"output": 1}


def test_plain_calls_create_no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[str] = []
    original = Run.__init__

    def counting(self: Run, *args: Any, **kwargs: Any) -> None:
        created.append(kwargs.get("name", "?"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Run, "__init__", counting)
    chain = (
        Double()
        | RunnableParallel({"g": gen_step(), "l": RunnableLambda(str)})
        | RunnablePick(keys="g")
    )
    assert chain.invoke(1) == "23"
    assert asyncio.run(chain.ainvoke(1)) == "23"
    assert list(Double().stream(2)) == [4]
    assert list(FakeChat().stream("a b")) == [
        AIMessageChunk(content="a", id="run-1"),
        AIMessageChunk(content="b", id="run-1"),
    ]
    assert created == []
    events = events_of(Double() | gen_step(), 1)
    assert len(created) == 3
    assert len({e["run_id"] for e in events}) == 3
