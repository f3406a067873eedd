"""RunnableBinding: bind / with_config / with_types / with_listeners, calls, schemas, wire form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import runwire
from runtime_helpers import LC, Echo, Recorder
from runwire.runtime.base import Runnable
from runwire.runtime.binding import RunnableBinding, listeners_binding
from runwire.runtime.callbacks import CallbackContext, Run
from runwire.runtime.config import RunnableConfig, merge_configs
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.retry import RunnableRetry
from runwire.runtime.sequence import RunnableSequence


def passthrough_node(name: str = "RunnablePassthrough", ns: list[str] | None = None) -> dict:
    return {
        "lc": 1,
        "type": "constructor",
        "id": [*(ns or LC), "RunnablePassthrough"],
        "kwargs": {},
        "name": name,
    }


# -- bind: kwargs reach the bound runnable --------------------------------------------------
def test_bind_passes_kwargs_and_call_kwargs_win() -> None:
    echo = Echo()
    bound = echo.bind(stop=["x"], temperature=0)
    assert isinstance(bound, RunnableBinding)
    assert bound.invoke("hi") == {"input": "hi", "kwargs": {"stop": ["x"], "temperature": 0}}
    assert bound.invoke("hi", temperature=1)["kwargs"] == {"stop": ["x"], "temperature": 1}
    assert echo.calls == [{"stop": ["x"], "temperature": 0}, {"stop": ["x"], "temperature": 1}]


def test_bind_kwargs_reach_async_batch_and_stream_paths() -> None:
    echo = Echo()
    bound = echo.bind(k=1)
    assert asyncio.run(bound.ainvoke("a"))["kwargs"] == {"k": 1}
    assert [o["kwargs"] for o in bound.batch(["a", "b"])] == [{"k": 1}, {"k": 1}]
    assert [o["kwargs"] for o in asyncio.run(bound.abatch(["a"]))] == [{"k": 1}]
    assert [c["kwargs"] for c in bound.stream("a")] == [{"k": 1}]

    async def collect() -> list[Any]:
        return [c async for c in bound.astream("a", k=2)]

    assert [c["kwargs"] for c in asyncio.run(collect())] == [{"k": 2}]
    assert sorted(i for i, _ in bound.batch_as_completed(["a", "b"])) == [0, 1]

    async def completed() -> list[tuple[int, Any]]:
        return [item async for item in bound.abatch_as_completed(["a", "b"])]

    assert sorted((i, o["kwargs"]["k"]) for i, o in asyncio.run(completed())) == [(0, 1), (1, 1)]
    assert len(echo.calls) == 10


def test_bind_on_a_binding_merges_into_one_binding() -> None:
    echo = Echo()
    twice = echo.bind(a=1).with_config(tags=["t"]).bind(b=2, a=3)
    assert isinstance(twice, RunnableBinding)
    assert twice.bound is echo  # not nested
    assert twice.kwargs == {"a": 3, "b": 2}
    assert twice.config == {"tags": ["t"]}
    assert twice.invoke(0)["kwargs"] == {"a": 3, "b": 2}


def test_with_config_on_a_binding_replaces_keys_like_langchain() -> None:
    binding = RunnablePassthrough().with_config(tags=["a"], metadata={"x": 1})
    again = binding.with_config(tags=["b"], run_name="n")
    assert isinstance(again.bound, RunnablePassthrough)
    assert again.config == {"tags": ["b"], "metadata": {"x": 1}, "run_name": "n"}
    assert binding.config == {"tags": ["a"], "metadata": {"x": 1}}  # unchanged


# -- config merging as handlers see it ------------------------------------------------------
def test_bound_config_merges_with_call_config() -> None:
    recorder = Recorder()
    runnable = RunnablePassthrough().with_config(tags=["b", "z"], metadata={"x": 1, "y": 0})
    out = runnable.invoke(
        5, {"tags": ["a", "b"], "metadata": {"y": 2}, "callbacks": [recorder], "run_name": "r"}
    )
    assert out == 5
    (run,) = recorder.started
    assert run.name == "r"
    assert run.tags == ["a", "b", "z"]  # sorted union
    assert run.metadata == {"x": 1, "y": 2}  # the call's value wins
    assert recorder.ended[0].outputs == 5


def test_bound_config_merges_on_async_and_stream_paths() -> None:
    recorder = Recorder()
    runnable = RunnablePassthrough().with_config(tags=["bound"])
    asyncio.run(runnable.ainvoke(1, {"callbacks": [recorder], "tags": ["call"]}))
    assert list(runnable.stream(2, {"callbacks": [recorder]})) == [2]

    async def collect() -> list[Any]:
        return [c async for c in runnable.astream(3, {"callbacks": [recorder]})]

    assert asyncio.run(collect()) == [3]
    assert [r.tags for r in recorder.started] == [["bound", "call"], ["bound"], ["bound"]]


def test_bound_callbacks_join_the_run_tree_of_the_caller() -> None:
    outer, inner = Recorder(), Recorder()
    step = RunnablePassthrough().with_config(callbacks=[inner], tags=["inner"])
    chain = RunnableSequence(RunnablePassthrough(), step)
    assert chain.invoke(1, {"callbacks": [outer]}) == 1
    sequence_run = outer.started[0]
    assert sequence_run.name == "RunnableSequence"
    (seen,) = inner.started  # the bound handler sees only the bound runnable's run ...
    assert seen.parent_ids == [str(sequence_run.id)]  # ... placed under the sequence
    assert "seq:step:2" in seen.tags and "inner" in seen.tags
    assert len(outer.started) == 3  # the caller's handler still sees everything


def test_merge_bound_config_keeps_a_callback_context() -> None:
    first, second = Recorder(), Recorder()
    ctx = CallbackContext((first,))
    merged = merge_configs({"callbacks": [second], "tags": ["b"]}, {"callbacks": ctx})
    assert isinstance(merged["callbacks"], CallbackContext)
    assert merged["callbacks"].handlers == (first, second)
    plain = merge_configs({"callbacks": [first]}, {"callbacks": [second], "tags": ["a"]})
    assert plain["callbacks"] == [first, second]
    assert plain["tags"] == ["a"]


def test_batch_merges_the_bound_config_into_each_config() -> None:
    recorder = Recorder()
    runnable = RunnablePassthrough().with_config(tags=["bound"])
    configs: list[RunnableConfig] = [
        {"callbacks": [recorder], "tags": ["one"]},
        {"callbacks": [recorder], "tags": ["two"]},
    ]
    assert runnable.batch([1, 2], configs) == [1, 2]
    assert sorted(tuple(r.tags) for r in recorder.started) == [("bound", "one"), ("bound", "two")]


def test_batch_return_exceptions_passes_through() -> None:
    def fail_on_two(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x

    runnable = RunnableLambda(fail_on_two).with_config(tags=["t"])
    out = runnable.batch([1, 2, 3], return_exceptions=True)
    assert out[0] == 1 and out[2] == 3 and isinstance(out[1], ValueError)
    with pytest.raises(ValueError, match="two"):
        runnable.batch([1, 2])
    with pytest.raises(ValueError, match="two"):
        asyncio.run(runnable.abatch([2]))


def test_transform_and_atransform_delegate_with_kwargs() -> None:
    echo = Echo()
    bound = echo.bind(k=1)
    assert [c["input"] for c in bound.transform(iter(["a", "b"]))] == ["ab"]

    async def chunks() -> AsyncIterator[str]:
        yield "c"
        yield "d"

    async def collect() -> list[Any]:
        return [c async for c in bound.atransform(chunks())]

    assert [c["input"] for c in asyncio.run(collect())] == ["cd"]
    assert echo.calls == [{"k": 1}, {"k": 1}]


# -- names, types, schemas ------------------------------------------------------------------
def test_name_is_the_bound_runnables_name() -> None:
    pick = RunnablePick("a")
    binding = pick.bind(x=1)
    assert binding.get_name() == "RunnablePick<a>"
    assert binding.get_name("Input") == pick.get_name("Input")
    assert runwire.dumpd(binding)["name"] == "RunnablePick<a>"


class Question(BaseModel):
    question: str


def test_with_types_changes_the_json_schemas() -> None:
    plain = RunnablePassthrough()
    assert plain.get_input_jsonschema().get("type") is None
    typed = plain.with_types(input_type=int, output_type=list[str])
    assert typed.get_input_jsonschema() == {"title": "RunnablePassthroughInput", "type": "integer"}
    assert typed.get_output_jsonschema()["items"] == {"type": "string"}
    assert typed.InputType is int and typed.OutputType == list[str]
    model = plain.with_types(input_type=Question)
    assert model.get_input_schema() is Question
    assert model.get_input_jsonschema()["required"] == ["question"]
    # a later with_types keeps what it does not replace, and stays one binding
    both = typed.with_types(output_type=dict)
    assert both.bound is plain
    assert both.InputType is int and both.OutputType is dict


def test_schemas_and_config_specs_delegate_without_custom_types() -> None:
    pick = RunnablePick("a")
    binding = pick.bind(x=1)
    assert binding.get_input_jsonschema() == pick.get_input_jsonschema()
    assert binding.get_output_jsonschema() == pick.get_output_jsonschema()
    assert binding.config_specs == pick.config_specs == []
    assert binding.sync_is_cheap is True


# -- listeners ------------------------------------------------------------------------------
def test_listeners_get_the_bound_runs_only() -> None:
    events: list[tuple[str, str, Any]] = []
    chain = RunnableSequence(RunnablePassthrough(), RunnablePick("a"), name="picker")
    runnable = chain.with_listeners(
        on_start=lambda run: events.append(("start", run.name, run.inputs)),
        on_end=lambda run: events.append(("end", run.name, run.outputs)),
    )
    assert runnable.invoke({"a": 7}) == 7
    assert events == [("start", "picker", {"a": 7}), ("end", "picker", 7)]


def test_listener_with_config_and_on_error() -> None:
    seen: list[Any] = []

    def on_end(run: Run, config: RunnableConfig) -> None:
        seen.append(("end", run.outputs, config["tags"]))

    def on_error(run: Run) -> None:
        seen.append(("error", type(run.error).__name__))

    def maybe_fail(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return x

    runnable = RunnableLambda(maybe_fail).with_listeners(on_end=on_end, on_error=on_error)
    assert runnable.invoke(1, {"tags": ["t"]}) == 1
    with pytest.raises(ValueError):
        runnable.invoke(-1)
    assert seen == [("end", 1, ["t"]), ("error", "ValueError")]


def test_listeners_async_and_batch_get_one_run_per_input() -> None:
    ends: list[Any] = []
    runnable = RunnablePassthrough().with_listeners(on_end=lambda run: ends.append(run.outputs))
    assert asyncio.run(runnable.ainvoke(1)) == 1
    assert runnable.batch([2, 3]) == [2, 3]
    assert asyncio.run(runnable.abatch([4])) == [4]
    assert sorted(ends) == [1, 2, 3, 4]


def test_listeners_inside_a_sequence_see_their_step_only() -> None:
    starts: list[str] = []
    outer_recorder = Recorder()
    step = RunnablePick("a").with_listeners(on_start=lambda run: starts.append(run.name))
    chain = RunnableSequence(RunnablePassthrough(), step)
    assert chain.invoke({"a": 1}, {"callbacks": [outer_recorder]}) == 1
    assert chain.invoke({"a": 2}) == 2
    assert starts == ["RunnablePick<a>", "RunnablePick<a>"]


def test_listeners_on_a_binding_keep_kwargs_and_config() -> None:
    ends: list[Any] = []
    echo = Echo()
    runnable = echo.bind(k=1).with_config(tags=["t"]).with_listeners(on_end=ends.append)
    assert isinstance(runnable, RunnableBinding) and runnable.bound is echo
    runnable.invoke("x")
    (run,) = ends
    assert run.outputs == {"input": "x", "kwargs": {"k": 1}}
    assert run.tags == ["t"]
    assert listeners_binding(echo).config_factories  # the helper base.py uses


# -- wrappers and attribute fall-through ---------------------------------------------------
def test_with_retry_on_a_binding_retries_inside() -> None:
    runnable = Echo().bind(k=1).with_retry(stop_after_attempt=2)
    assert isinstance(runnable, RunnableBinding)
    assert isinstance(runnable.bound, RunnableRetry)
    assert runnable.bound.max_attempt_number == 2
    assert runnable.invoke(0)["kwargs"] == {"k": 1}


def test_attributes_fall_through_to_the_bound_runnable() -> None:
    echo = Echo()
    binding = echo.bind(k=1)
    assert binding.calls is echo.calls
    assert binding.describe("p") == "p:[]"
    configured = echo.with_config(tags=["bound"])
    assert configured.describe("p") == "p:['bound']"
    assert configured.describe("p", {"tags": ["call"]}) == "p:['bound', 'call']"
    assert configured.describe("p", config={"tags": ["kw"]}) == "p:['bound', 'kw']"
    with pytest.raises(AttributeError):
        _ = binding.no_such_attribute


def test_binding_works_without_pydantic_bound() -> None:
    binding = RunnableLambda(lambda x: x + 1).bind()
    assert binding.invoke(1) == 2
    assert isinstance(binding, Runnable)


# -- wire form ------------------------------------------------------------------------------
def test_dumps_matches_langchains_shape() -> None:
    binding = RunnablePassthrough().bind(stop=["x"])
    assert runwire.dumpd(binding, dialect="langchain") == {
        "lc": 1,
        "type": "constructor",
        "id": [*LC, "RunnableBinding"],
        "kwargs": {"bound": passthrough_node(), "kwargs": {"stop": ["x"]}, "config": {}},
        "name": "RunnablePassthrough",
    }
    configured = RunnablePassthrough().with_config(tags=["a"], run_name="n")
    assert runwire.dumpd(configured)["kwargs"] == {
        "bound": passthrough_node(ns=["runwire", "runnables"]),
        "config": {"tags": ["a"], "run_name": "n"},
    }
    assert runwire.dumpd(configured)["id"] == ["runwire", "runnables", "RunnableBinding"]


def test_dumps_writes_custom_types_as_not_implemented_and_skips_factories() -> None:
    typed = RunnablePassthrough().with_types(input_type=int)
    kwargs = runwire.dumpd(typed)["kwargs"]
    assert list(kwargs) == ["bound", "config", "custom_input_type"]
    assert kwargs["custom_input_type"] == {
        "lc": 1,
        "type": "not_implemented",
        "id": ["builtins", "int"],
        "repr": "<class 'int'>",
    }
    listened = RunnablePassthrough().with_listeners(on_end=print)
    assert list(runwire.dumpd(listened)["kwargs"]) == ["bound", "config"]


@pytest.mark.parametrize("dialect", ["runwire", "langchain"])
def test_round_trip(dialect: str) -> None:
    bound = RunnableSequence(RunnablePassthrough(), RunnablePick(["a", "b"]))
    binding = bound.bind(k=1).with_config(tags=["t"], metadata={"m": {"n": 1}})
    text = runwire.dumps(binding, dialect=dialect)  # type: ignore[arg-type]
    back = runwire.loads(text, allowed_objects="all")
    assert type(back) is RunnableBinding
    assert back == binding
    assert back.invoke({"a": 1, "b": 2, "c": 3}) == {"a": 1, "b": 2}
    assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]


def test_loads_langchains_own_binding() -> None:
    text = (
        '{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "runnable", '
        '"RunnableBinding"], "kwargs": {"bound": {"lc": 1, "type": "constructor", "id": '
        '["langchain", "schema", "runnable", "RunnablePassthrough"], "kwargs": {}, "name": '
        '"RunnablePassthrough"}, "kwargs": {"stop": ["x"]}, "config": {}}, "name": '
        '"RunnablePassthrough"}'
    )
    back = runwire.loads(text)
    assert back == RunnablePassthrough().bind(stop=["x"])


def test_constructor_defaults_and_none() -> None:
    binding = RunnableBinding(bound=RunnablePassthrough(), kwargs=None, config=None)
    assert binding.kwargs == {} and binding.config == {} and binding.config_factories == []
    assert binding.invoke(3) == 3


def _stream_numbers(chunks: Iterator[int]) -> Iterator[int]:
    for chunk in chunks:
        yield chunk
        yield chunk + 1


def test_stream_delegates_to_a_streaming_bound_runnable() -> None:
    from runwire.runtime.lambdas import RunnableGenerator

    binding = RunnableGenerator(_stream_numbers).with_config(tags=["t"])
    assert list(binding.stream(1)) == [1, 2]
