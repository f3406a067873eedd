"""Core runnables called one input at a time and in batches, sync and async.

RunnableSequence, RunnableParallel, RunnablePassthrough/Assign/Pick, RunnableLambda,
RunnableGenerator (invoke), coerce_to_runnable, batch/abatch and *_as_completed.
Streaming, config and callbacks are in ``test_runnable_streaming.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runwire.runtime.base import Runnable, coerce_to_runnable
from runwire.runtime.config import RunnableConfig
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from runwire.runtime.sequence import RunnableSequence


class Peak:
    """Counts the calls running at the same moment; ``peak`` is the most ever seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def _enter(self) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)

    def _leave(self) -> None:
        with self.lock:
            self.running -= 1

    def blocking(self, x: Any) -> Any:
        self._enter()
        time.sleep(0.01)
        self._leave()
        return x

    async def waiting(self, x: Any) -> Any:
        self._enter()
        await asyncio.sleep(0.005)
        self._leave()
        return x


class KwargsSpy(Runnable[Any, Any]):
    """Returns its input; records the keyword arguments of every call."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        self.seen.append(kwargs)
        return input

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        self.seen.append(kwargs)
        yield from input


def add_one(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return x * 2


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd: {x}")
    return x


# -- RunnableSequence ------------------------------------------------------------------


def test_pipe_operator_builds_a_flat_sequence_of_coerced_steps() -> None:
    seq = RunnableLambda(add_one) | double | RunnableLambda(add_one)
    assert isinstance(seq, RunnableSequence)
    assert len(seq.steps) == 3
    assert isinstance(seq.middle[0], RunnableLambda)
    assert seq.invoke(1) == 5
    assert asyncio.run(seq.ainvoke(1)) == 5


def test_sequences_flatten_when_joined() -> None:
    left = RunnableLambda(add_one) | RunnableLambda(double)
    right = RunnableLambda(add_one) | RunnableLambda(double)
    joined = left | right
    assert len(joined.steps) == 4
    assert all(isinstance(s, RunnableLambda) for s in joined.steps)
    assert len(RunnableSequence(left, RunnableLambda(add_one)).steps) == 3
    assert len(RunnableLambda(add_one).pipe(right, left).steps) == 5
    assert joined.invoke(1) == 10  # ((1+1)*2+1)*2


def test_plain_callable_on_the_left_is_coerced() -> None:
    seq = add_one | RunnableLambda(double)
    assert isinstance(seq, RunnableSequence)
    assert seq.invoke(3) == 8


def test_pipe_with_name_and_name_kept_when_extended() -> None:
    seq = RunnableLambda(add_one).pipe(double, name="calc")
    assert seq.name == "calc"
    assert seq.get_name() == "calc"
    assert (seq | add_one).name == "calc"
    assert (add_one | seq).name == "calc"
    assert RunnableSequence(RunnableLambda(add_one), double).get_name() == "RunnableSequence"


def test_joining_an_unnamed_sequence_with_a_named_one_keeps_the_name() -> None:
    named = RunnableLambda(add_one).pipe(double, name="calc")
    assert (RunnableLambda(add_one) | RunnableLambda(double) | named).name == "calc"


def test_sequence_needs_two_steps() -> None:
    with pytest.raises(ValueError, match="at least 2 steps"):
        RunnableSequence(RunnableLambda(add_one))


def test_call_kwargs_reach_only_the_first_step() -> None:
    first, last = KwargsSpy(), KwargsSpy()
    seq = first | last
    assert seq.invoke(1, None, stop=["x"]) == 1
    assert asyncio.run(seq.ainvoke(2, None, stop=["y"])) == 2
    assert first.seen == [{"stop": ["x"]}, {"stop": ["y"]}]
    assert last.seen == [{}, {}]


def test_stream_kwargs_reach_the_first_step() -> None:
    first, last = KwargsSpy(), KwargsSpy()
    assert list((first | last).stream(1, None, stop=["x"])) == [1]
    assert first.seen == [{"stop": ["x"]}]
    assert last.seen == [{}]


def test_a_failing_step_stops_the_sequence() -> None:
    after: list[int] = []
    seq = RunnableLambda(fail_on_odd) | RunnableLambda(after.append)
    with pytest.raises(ValueError, match="odd: 3"):
        seq.invoke(3)
    with pytest.raises(ValueError, match="odd: 5"):
        asyncio.run(seq.ainvoke(5))
    assert after == []


# -- RunnableParallel --------------------------------------------------------------------


def test_dict_in_a_sequence_becomes_a_parallel_step() -> None:
    seq = RunnableLambda(add_one) | {"same": RunnablePassthrough(), "twice": double}
    assert isinstance(seq.last, RunnableParallel)
    assert seq.invoke(1) == {"same": 2, "twice": 4}
    assert asyncio.run(seq.ainvoke(1)) == {"same": 2, "twice": 4}
    rev = {"a": add_one, "b": double} | RunnableLambda(lambda d: d["a"] * d["b"])
    assert isinstance(rev.first, RunnableParallel)
    assert rev.invoke(3) == 24


def test_parallel_kwargs_constructor_and_name() -> None:
    par = RunnableParallel(a=add_one, b=RunnablePassthrough())
    assert list(par.steps__) == ["a", "b"]
    assert isinstance(par.steps__["a"], RunnableLambda)
    assert par.invoke(1) == {"a": 2, "b": 1}
    assert asyncio.run(par.ainvoke(1)) == {"a": 2, "b": 1}
    assert par.get_name() == "RunnableParallel<a,b>"
    assert RunnableParallel({"x": add_one}, y=double).invoke(2) == {"x": 3, "y": 4}


def test_parallel_branch_error_propagates() -> None:
    par = RunnableParallel(ok=add_one, bad=fail_on_odd)
    with pytest.raises(ValueError, match="odd: 1"):
        par.invoke(1)
    with pytest.raises(ValueError, match="odd: 1"):
        asyncio.run(par.ainvoke(1))


def test_parallel_max_concurrency_bounds_threads() -> None:
    peak = Peak()
    par = RunnableParallel({f"k{i}": RunnableLambda(peak.blocking) for i in range(6)})
    assert par.invoke(7, {"max_concurrency": 2}) == {f"k{i}": 7 for i in range(6)}
    assert 1 < peak.peak <= 2


def test_parallel_max_concurrency_bounds_tasks() -> None:
    peak = Peak()
    par = RunnableParallel({f"k{i}": RunnableLambda(peak.waiting) for i in range(8)})
    assert asyncio.run(par.ainvoke(7, {"max_concurrency": 3})) == {f"k{i}": 7 for i in range(8)}
    assert 1 < peak.peak <= 3


# -- RunnablePassthrough, RunnableAssign, RunnablePick -------------------------------------


def test_passthrough_calls_func_as_a_side_effect() -> None:
    seen: list[Any] = []
    configs: list[RunnableConfig] = []

    def with_config(x: Any, config: RunnableConfig) -> None:
        configs.append(config)

    assert RunnablePassthrough(func=seen.append).invoke({"a": 1}) == {"a": 1}
    assert asyncio.run(RunnablePassthrough(func=seen.append).ainvoke(2)) == 2
    assert seen == [{"a": 1}, 2]
    RunnablePassthrough(func=with_config).invoke(3, {"tags": ["t"]})
    assert configs[0]["tags"] == ["t"]


def test_passthrough_afunc_is_awaited_by_async_calls_only() -> None:
    sync_seen: list[Any] = []
    async_seen: list[Any] = []

    async def record(x: Any) -> None:
        await asyncio.sleep(0)
        async_seen.append(x)

    both = RunnablePassthrough(func=sync_seen.append, afunc=record)
    assert asyncio.run(both.ainvoke(1)) == 1
    assert both.invoke(2) == 2
    assert async_seen == [1]
    assert sync_seen == [2]


def test_passthrough_positional_and_coroutine_func() -> None:
    seen: list[Any] = []

    async def record(x: Any) -> None:
        seen.append(x)

    assert RunnablePassthrough(seen.append).invoke(1) == 1
    assert asyncio.run(RunnablePassthrough(record).ainvoke(2)) == 2
    assert seen == [1, 2]


def test_passthrough_input_type_sets_both_types() -> None:
    p = RunnablePassthrough(input_type=int)
    assert p.InputType is int
    assert p.OutputType is int
    assert p.get_input_jsonschema()["type"] == "integer"
    assert RunnablePassthrough().InputType is Any


def test_assign_adds_computed_keys() -> None:
    assign = RunnablePassthrough.assign(total=lambda d: d["a"] + d["b"], a=lambda d: -d["a"])
    assert isinstance(assign, RunnableAssign)
    assert assign.invoke({"a": 1, "b": 2}) == {"a": -1, "b": 2, "total": 3}
    assert asyncio.run(assign.ainvoke({"a": 1, "b": 2})) == {"a": -1, "b": 2, "total": 3}
    chained = RunnableLambda(lambda x: {"x": x}).assign(y=lambda d: d["x"] * 10)
    assert chained.invoke(4) == {"x": 4, "y": 40}


@pytest.mark.parametrize("value", [3, "text", ["a"], None])
def test_assign_rejects_non_dict_input(value: Any) -> None:
    assign = RunnablePassthrough.assign(k=lambda d: 1)
    with pytest.raises(TypeError, match="dict input"):
        assign.invoke(value)
    with pytest.raises(TypeError, match="dict input"):
        asyncio.run(assign.ainvoke(value))
    with pytest.raises(TypeError, match="dict input"):
        list(assign.stream(value))


def test_pick_string_and_list_keys() -> None:
    data = {"a": 1, "b": 2, "c": 3}
    assert RunnablePick("b").invoke(data) == 2
    assert RunnablePick(keys=["a", "c"]).invoke(data) == {"a": 1, "c": 3}
    assert RunnablePick(["a", "missing"]).invoke(data) == {"a": 1}
    assert asyncio.run(RunnablePick(["c"]).ainvoke(data)) == {"c": 3}
    assert RunnablePick("a").get_name() == "RunnablePick<a>"
    assert RunnablePick(["a", "b"]).get_name() == "RunnablePick<a,b>"
    assert (RunnableLambda(lambda x: {"v": x}).pick("v")).invoke(9) == 9


def test_pick_missing_keys_give_none() -> None:
    assert RunnablePick("missing").invoke({"a": 1}) is None
    assert RunnablePick(["x", "y"]).invoke({"a": 1}) is None
    assert list(RunnablePick("missing").stream({"a": 1})) == []
    with pytest.raises(TypeError, match="RunnablePick takes a dict"):
        RunnablePick("a").invoke(["a"])


# -- RunnableLambda, RunnableGenerator, coerce_to_runnable ---------------------------------


def test_lambda_gets_the_config_when_it_asks_for_it() -> None:
    def tags_of(x: Any, config: RunnableConfig) -> Any:
        return (x, config["tags"], config["metadata"])

    async def atags_of(x: Any, config: RunnableConfig) -> Any:
        return (x, config["tags"], config["metadata"])

    cfg: RunnableConfig = {"tags": ["t"], "metadata": {"m": 1}}
    assert RunnableLambda(tags_of).invoke(1, cfg) == (1, ["t"], {"m": 1})
    assert asyncio.run(RunnableLambda(atags_of).ainvoke(2, cfg)) == (2, ["t"], {"m": 1})


def test_lambda_returning_a_runnable_invokes_it() -> None:
    inner = RunnableLambda(double)
    outer = RunnableLambda(lambda x: inner if x > 0 else RunnableLambda(add_one))
    assert outer.invoke(5) == 10
    assert outer.invoke(-5) == -4
    assert asyncio.run(outer.ainvoke(5)) == 10


@pytest.mark.parametrize(("limit", "calls"), [(3, 4), (None, 26)])
def test_lambda_returning_itself_hits_the_recursion_limit(limit: int | None, calls: int) -> None:
    seen: list[int] = []

    def again(x: int) -> Any:
        seen.append(x)
        return me

    me = RunnableLambda(again)
    config: RunnableConfig = {} if limit is None else {"recursion_limit": limit}
    with pytest.raises(RecursionError):
        me.invoke(1, config)
    assert len(seen) == calls


def test_async_lambda_returning_itself_hits_the_recursion_limit() -> None:
    seen: list[int] = []

    async def again(x: int) -> Any:
        seen.append(x)
        return me

    me = RunnableLambda(again)
    with pytest.raises(RecursionError):
        asyncio.run(me.ainvoke(1, {"recursion_limit": 2}))
    assert len(seen) == 3


def test_async_function_becomes_afunc() -> None:
    async def triple(x: int) -> int:
        await asyncio.sleep(0)
        return x * 3

    lam = RunnableLambda(triple)
    assert lam.func is None
    assert lam.afunc is triple
    assert lam.name == "triple"
    assert asyncio.run(lam.ainvoke(2)) == 6
    pair = RunnableLambda(add_one, afunc=triple)
    assert pair.invoke(2) == 3
    assert asyncio.run(pair.ainvoke(2)) == 6


def test_generators_invoke_by_summing_their_chunks() -> None:
    def letters(chunks: Iterator[Any]) -> Iterator[str]:
        for chunk in chunks:
            yield from str(chunk)

    async def aletters(chunks: Any) -> Any:
        async for chunk in chunks:
            for ch in str(chunk):
                yield ch

    assert RunnableGenerator(letters).invoke("abc") == "abc"
    assert asyncio.run(RunnableGenerator(letters, aletters).ainvoke(123)) == "123"
    assert asyncio.run(RunnableGenerator(aletters).ainvoke("xyz")) == "xyz"
    with pytest.raises(NotImplementedError):
        RunnableGenerator(aletters).invoke("xyz")
    assert isinstance(coerce_to_runnable(letters), RunnableGenerator)
    assert isinstance(coerce_to_runnable(aletters), RunnableGenerator)


@pytest.mark.parametrize("thing", [5, "text", None, [add_one]])
def test_coerce_to_runnable_rejects_other_values(thing: Any) -> None:
    with pytest.raises(TypeError, match="expected a Runnable, callable or dict"):
        coerce_to_runnable(thing)
    with pytest.raises(TypeError, match="expected a Runnable, callable or dict"):
        RunnableLambda(add_one) | thing


def test_coerce_to_runnable_kinds() -> None:
    p = RunnablePassthrough()
    assert coerce_to_runnable(p) is p
    assert isinstance(coerce_to_runnable({"a": add_one}), RunnableParallel)
    assert isinstance(coerce_to_runnable(add_one), RunnableLambda)
    with pytest.raises(TypeError, match="needs a function"):
        RunnableLambda(None)  # type: ignore[arg-type]


# -- batch, abatch, *_as_completed -------------------------------------------------------


def tag_of(x: int, config: RunnableConfig) -> Any:
    return (x, config["tags"])


def test_batch_with_one_config_or_one_per_input() -> None:
    lam = RunnableLambda(tag_of)
    assert lam.batch([1, 2], {"tags": ["all"]}) == [(1, ["all"]), (2, ["all"])]
    per_input: list[RunnableConfig] = [{"tags": ["one"]}, {"tags": ["two"]}]
    assert lam.batch([1, 2], per_input) == [(1, ["one"]), (2, ["two"])]
    assert asyncio.run(lam.abatch([1, 2], per_input)) == [(1, ["one"]), (2, ["two"])]
    assert lam.batch([]) == []
    assert asyncio.run(lam.abatch([])) == []


def test_batch_config_list_length_must_match() -> None:
    lam = RunnableLambda(add_one)
    configs: list[RunnableConfig] = [{}, {}]
    with pytest.raises(ValueError, match="same length"):
        lam.batch([1, 2, 3], configs)
    with pytest.raises(ValueError, match="same length"):
        asyncio.run(lam.abatch([1, 2, 3], configs))
    with pytest.raises(ValueError, match="same length"):
        list(lam.batch_as_completed([1, 2, 3], configs))


@pytest.mark.parametrize("runnable", [RunnableLambda(fail_on_odd), RunnablePick("k")])
def test_batch_return_exceptions(runnable: Runnable[Any, Any]) -> None:
    inputs: list[Any] = [2, 3, 4] if isinstance(runnable, RunnableLambda) else [{"k": 2}, 3]
    out = runnable.batch(inputs, return_exceptions=True)
    aout = asyncio.run(runnable.abatch(inputs, return_exceptions=True))
    for result in (out, aout):
        assert result[0] == 2
        assert isinstance(result[1], ValueError | TypeError)
        assert len(result) == len(inputs)
    with pytest.raises((ValueError, TypeError)):
        runnable.batch(inputs)
    with pytest.raises((ValueError, TypeError)):
        asyncio.run(runnable.abatch(inputs))


def test_batch_max_concurrency_bounds_threads() -> None:
    peak = Peak()
    lam = RunnableLambda(peak.blocking)
    assert lam.batch(list(range(6)), {"max_concurrency": 2}) == list(range(6))
    assert 1 < peak.peak <= 2


def test_abatch_max_concurrency_bounds_tasks() -> None:
    peak = Peak()
    lam = RunnableLambda(peak.waiting)
    out = asyncio.run(lam.abatch(list(range(9)), {"max_concurrency": 3}))
    assert out == list(range(9))
    assert 1 < peak.peak <= 3


def test_abatch_first_failure_stops_the_workers() -> None:
    started: list[int] = []

    async def flaky(x: int) -> int:
        started.append(x)
        await asyncio.sleep(0.001)
        if x == 1:
            raise ValueError("boom on 1")
        return x

    async def run() -> set[asyncio.Task[Any]]:
        with pytest.raises(ValueError, match="boom on 1"):
            await RunnableLambda(flaky).abatch(list(range(50)), {"max_concurrency": 2})
        return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]

    assert asyncio.run(run()) == set()  # no worker left running
    assert len(started) < 50  # the failure stopped the rest from starting


def test_batch_as_completed_yields_every_index() -> None:
    lam = RunnableLambda(double)
    assert sorted(lam.batch_as_completed([5, 6, 7])) == [(0, 10), (1, 12), (2, 14)]

    async def collect() -> list[tuple[int, Any]]:
        return [pair async for pair in lam.abatch_as_completed([5, 6, 7])]

    assert sorted(asyncio.run(collect())) == [(0, 10), (1, 12), (2, 14)]
    assert list(lam.batch_as_completed([])) == []


def test_batch_as_completed_return_exceptions() -> None:
    lam = RunnableLambda(fail_on_odd)
    done = dict(lam.batch_as_completed([2, 3], return_exceptions=True))
    assert done[0] == 2
    assert isinstance(done[1], ValueError)

    async def collect(flag: bool) -> dict[int, Any]:
        return {i: o async for i, o in lam.abatch_as_completed([2, 3], return_exceptions=flag)}

    adone = asyncio.run(collect(True))
    assert adone[0] == 2
    assert isinstance(adone[1], ValueError)
    with pytest.raises(ValueError, match="odd: 3"):
        asyncio.run(collect(False))
    with pytest.raises(ValueError, match="odd: 3"):
        list(lam.batch_as_completed([2, 3]))


def test_batch_and_parallel_threads_see_the_callers_context_variables() -> None:
    """A context variable set by the caller (the current config, a graph node's writer)
    reaches the worker threads of batch, batch_as_completed and a parallel step."""
    import contextvars
    import time

    from runwire.runtime.lambdas import RunnableLambda
    from runwire.runtime.parallel import RunnableParallel

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

    def seen(_: object) -> str:
        time.sleep(0.001)  # a blocking step, so the runnable is not run inline
        return marker.get()

    step = RunnableLambda(seen)
    token = marker.set("caller")
    try:
        assert step.batch([1, 2, 3]) == ["caller"] * 3
        assert sorted(out for _, out in step.batch_as_completed([1, 2])) == ["caller"] * 2
        both = RunnableParallel(a=step, b=step)
        assert both.invoke(0) == {"a": "caller", "b": "caller"}
    finally:
        marker.reset(token)
