"""RunnableRetry and RunnableWithFallbacks: attempts, error paths, batches, streams, wire form."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import runwire
from runtime_helpers import LC, Recorder
from runwire.errors import FieldValidationError
from runwire.runtime.binding import RunnableBinding
from runwire.runtime.config import RunnableConfig
from runwire.runtime.fallbacks import RunnableWithFallbacks
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.retry import RunnableRetry, register_exception_type
from runwire.runtime.serializable import RunnableSerializable

NO_WAIT = {"initial": 0, "max": 0, "jitter": 0}


class Flaky:
    """A function failing with ``error`` for its first ``failures`` calls per input."""

    def __init__(self, failures: int, error: type[Exception] = ValueError) -> None:
        self.failures = failures
        self.error = error
        self.calls: dict[Any, int] = {}

    def __call__(self, x: Any) -> Any:
        key = repr(x)
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= self.failures:
            raise self.error(f"{x} failed (call {self.calls[key]})")
        return x

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def retrying(func: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("exponential_jitter_params", NO_WAIT)
    return RunnableLambda(func).with_retry(**kwargs)


# == RunnableRetry =========================================================================
def test_invoke_retries_until_success() -> None:
    flaky = Flaky(2)
    runnable = retrying(flaky)
    assert isinstance(runnable, RunnableRetry)
    assert runnable.invoke(5) == 5
    assert flaky.total == 3


def test_ainvoke_retries_until_success() -> None:
    flaky = Flaky(2)
    assert asyncio.run(retrying(flaky).ainvoke(5)) == 5
    assert flaky.total == 3


@pytest.mark.parametrize("attempts", [1, 2, 4])
def test_gives_up_after_max_attempts_with_the_last_error(attempts: int) -> None:
    flaky = Flaky(10)
    runnable = retrying(flaky, stop_after_attempt=attempts)
    with pytest.raises(ValueError, match=f"call {attempts}\\)"):
        runnable.invoke(1)
    assert flaky.total == attempts
    flaky.calls.clear()
    with pytest.raises(ValueError, match=f"call {attempts}\\)"):
        asyncio.run(runnable.ainvoke(1))
    assert flaky.total == attempts


def test_retries_only_the_listed_exception_types() -> None:
    flaky = Flaky(1, KeyError)
    runnable = retrying(flaky, retry_if_exception_type=(ValueError, TimeoutError))
    with pytest.raises(KeyError):
        runnable.invoke(1)
    assert flaky.total == 1
    timeouts = Flaky(1, TimeoutError)
    assert retrying(timeouts, retry_if_exception_type=(ValueError, TimeoutError)).invoke(2) == 2
    assert timeouts.total == 2


def test_retry_predicate() -> None:
    flaky = Flaky(5)
    runnable = RunnableRetry(
        bound=RunnableLambda(flaky),
        retry_exception_types=lambda exc: "call 1)" in str(exc),
        wait_exponential_jitter=False,
    )
    with pytest.raises(ValueError, match="call 2"):
        runnable.invoke(1)
    assert flaky.total == 2
    assert runwire.dumpd(runnable)["kwargs"]["retry_exception_types"]["type"] == "not_implemented"


def test_waits_between_attempts_with_the_jitter_params(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    runnable = retrying(
        Flaky(2), exponential_jitter_params={"initial": 0.01, "max": 0.01, "jitter": 0}
    )
    assert runnable.invoke(1) == 1
    assert slept == [0.01, 0.01]
    slept.clear()
    no_wait = RunnableLambda(Flaky(2)).with_retry(wait_exponential_jitter=False)
    assert no_wait.invoke(1) == 1
    assert all(s == 0 for s in slept)


def test_attempts_after_the_first_are_tagged() -> None:
    recorder = Recorder()
    runnable = retrying(Flaky(2, TimeoutError), stop_after_attempt=3)
    assert runnable.invoke(1, {"callbacks": [recorder], "tags": ["mine"]}) == 1
    names = [run.name for run in recorder.started]
    assert names == ["RunnableLambda"] * 4  # the retry run is named after the bound runnable
    retry_run, *attempts = recorder.started
    assert retry_run.tags == ["mine"]
    assert [run.tags for run in attempts] == [
        ["mine"],
        ["retry:attempt:2", "mine"],  # one-run tags first, as LangChain orders them
        ["retry:attempt:3", "mine"],
    ]
    assert all(run.parent_ids == [str(retry_run.id)] for run in attempts)
    assert len(recorder.errored) == 2 and recorder.ended[-1] is retry_run


def test_async_attempts_are_tagged_too() -> None:
    recorder = Recorder()
    runnable = retrying(Flaky(1))
    assert asyncio.run(runnable.ainvoke(1, {"callbacks": [recorder]})) == 1
    assert [run.tags for run in recorder.started[1:]] == [[], ["retry:attempt:2"]]


def test_batch_retries_only_the_failed_inputs() -> None:
    flaky = Flaky(0)
    flaky_inputs = {1: 2, 3: 1}  # input -> failures before success

    def func(x: int) -> int:
        flaky.calls[x] = flaky.calls.get(x, 0) + 1
        if flaky.calls[x] <= flaky_inputs.get(x, 0):
            raise ValueError(x)
        return x * 10

    runnable = retrying(func, stop_after_attempt=3)
    assert runnable.batch([0, 1, 2, 3]) == [0, 10, 20, 30]
    assert flaky.calls == {0: 1, 1: 3, 2: 1, 3: 2}
    flaky.calls.clear()
    assert asyncio.run(runnable.abatch([0, 1, 2, 3])) == [0, 10, 20, 30]
    assert flaky.calls == {0: 1, 1: 3, 2: 1, 3: 2}


def test_batch_out_of_attempts_returns_or_raises_the_errors() -> None:
    flaky = Flaky(5)

    def func(x: int) -> int:
        return x if x % 2 == 0 else flaky(x)

    runnable = retrying(func, stop_after_attempt=2)
    out = runnable.batch([0, 1, 2, 3], return_exceptions=True)
    assert out[0] == 0 and out[2] == 2
    assert [str(out[1]), str(out[3])] == ["1 failed (call 2)", "3 failed (call 2)"]
    flaky.calls.clear()
    with pytest.raises(ValueError, match="1 failed"):
        runnable.batch([0, 1, 2, 3])
    flaky.calls.clear()
    out = asyncio.run(runnable.abatch([1, 2], return_exceptions=True))
    assert isinstance(out[0], ValueError) and out[1] == 2
    flaky.calls.clear()
    with pytest.raises(ValueError):
        asyncio.run(runnable.abatch([1, 2]))


def test_batch_does_not_retry_other_exception_types() -> None:
    calls: list[int] = []

    def func(x: int) -> int:
        calls.append(x)
        if x == 1:
            raise KeyError("never retried")
        if x == 2 and calls.count(2) == 1:
            raise ValueError("retried once")
        return x

    runnable = retrying(func, retry_if_exception_type=(ValueError,))
    out = runnable.batch([1, 2, 3], return_exceptions=True)
    assert isinstance(out[0], KeyError) and out[1:] == [2, 3]
    assert sorted(calls) == [1, 2, 2, 3]
    calls.clear()
    with pytest.raises(KeyError):
        runnable.batch([1, 2, 3])
    calls.clear()
    with pytest.raises(KeyError):
        asyncio.run(runnable.abatch([1, 3]))


def test_batch_reports_one_run_per_input() -> None:
    recorder = Recorder()
    runnable = retrying(Flaky(1))
    assert runnable.batch([1, 2], {"callbacks": [recorder]}) == [1, 2]
    roots = [run for run in recorder.started if not run.parent_ids]
    assert len(roots) == 2 and all(run in recorder.ended for run in roots)
    retried = [run for run in recorder.started if "retry:attempt:2" in run.tags]
    assert len(retried) == 2
    assert {run.parent_ids[0] for run in retried} == {str(run.id) for run in roots}


def test_batch_as_completed_is_retried_and_streams_are_not() -> None:
    flaky = Flaky(1)
    runnable = retrying(flaky)
    assert sorted(runnable.batch_as_completed([1, 2])) == [(0, 1), (1, 2)]
    assert flaky.total == 4

    async def completed() -> list[tuple[int, Any]]:
        return [item async for item in runnable.abatch_as_completed([3])]

    assert asyncio.run(completed()) == [(0, 3)]
    once = Flaky(1)
    with pytest.raises(ValueError):
        list(retrying(once).stream(1))
    assert once.total == 1


def test_retry_with_config_wraps_rather_than_merges() -> None:
    def flaky(x: Any) -> Any:
        return x

    retry = retrying(flaky)
    wrapped = retry.with_config(tags=["t"])
    assert type(wrapped) is RunnableBinding and wrapped.bound is retry
    assert type(retry.bind(k=1)) is RunnableBinding
    assert retry.get_name() == "flaky"
    assert isinstance(retry, RunnableBinding)  # a binding, like LangChain's


def test_retry_wire_form_and_round_trip() -> None:
    retry = RunnablePick("a").with_retry(
        retry_if_exception_type=(ValueError, ConnectionError),
        stop_after_attempt=2,
        exponential_jitter_params={"initial": 0.5},
    )
    node = runwire.dumpd(retry, dialect="langchain")
    assert node["id"] == [*LC, "RunnableRetry"]
    assert node["name"] == "RunnablePick<a>"
    assert list(node["kwargs"]) == [
        "bound",
        "config",
        "retry_exception_types",
        "wait_exponential_jitter",
        "exponential_jitter_params",
        "max_attempt_number",
    ]
    assert node["kwargs"]["retry_exception_types"] == ["ValueError", "ConnectionError"]
    assert node["kwargs"]["wait_exponential_jitter"] is True  # truthy: written (LangChain)
    for dialect in ("runwire", "langchain"):
        text = runwire.dumps(retry, dialect=dialect)  # type: ignore[arg-type]
        back = runwire.loads(text, allowed_objects="all")
        assert type(back) is RunnableRetry and back == retry
        assert back.retry_exception_types == (ValueError, ConnectionError)
        assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]
    assert runwire.dumpd(retry)["id"] == ["runwire", "runnables", "RunnableRetry"]


def test_retry_exception_names_are_checked() -> None:
    node = runwire.dumpd(RunnablePassthrough().with_retry())
    node["kwargs"]["retry_exception_types"] = ["NoSuchError"]
    with pytest.raises(FieldValidationError, match="NoSuchError"):
        runwire.load(node, allowed_objects="all")
    # LangChain's not_implemented form of a builtin is understood by the field itself
    lc_form = {"lc": 1, "type": "not_implemented", "id": ["builtins", "TimeoutError"]}
    retry = RunnableRetry(bound=RunnablePassthrough(), retry_exception_types=[lc_form])
    assert retry.retry_exception_types == (TimeoutError,)
    assert RunnableRetry(bound=RunnablePassthrough(), retry_exception_types=KeyError)


class QuotaError(Exception):
    pass


class OtherError(Exception):
    pass


def test_registered_and_unregistered_exception_classes() -> None:
    name = register_exception_type(QuotaError)
    assert name == f"{__name__}.QuotaError"
    retry = RunnablePassthrough().with_retry(retry_if_exception_type=(QuotaError, OtherError))
    written = runwire.dumpd(retry)["kwargs"]["retry_exception_types"]
    assert written[0] == name
    assert written[1]["type"] == "not_implemented"  # unknown classes are code, not data
    only_known = RunnablePassthrough().with_retry(retry_if_exception_type=(QuotaError,))
    assert runwire.loads(runwire.dumps(only_known), allowed_objects="all") == only_known
    with pytest.raises(ValueError, match="already taken"):
        register_exception_type(OtherError, name="ValueError")


# == RunnableWithFallbacks ===================================================================
def failing(error: Exception) -> RunnableLambda:
    def fail(x: Any) -> Any:
        raise error

    return RunnableLambda(fail)


def counting(calls: list[Any], result: Any = "ok") -> RunnableLambda:
    def func(x: Any) -> Any:
        calls.append(x)
        return result

    return RunnableLambda(func)


def test_fallbacks_run_in_order_until_one_succeeds() -> None:
    calls: list[Any] = []
    ok = counting(calls, "primary").with_fallbacks([counting(calls, "never")])
    assert ok.invoke(1) == "primary" and calls == [1]
    runnable = failing(ValueError("a")).with_fallbacks(
        [failing(KeyError("b")), counting(calls, "third"), counting(calls, "never")]
    )
    assert isinstance(runnable, RunnableWithFallbacks)
    assert runnable.invoke(2) == "third"
    assert asyncio.run(runnable.ainvoke(3)) == "third"
    assert calls == [1, 2, 3]


def test_all_failing_raises_the_first_error() -> None:
    first = ValueError("first")
    runnable = failing(first).with_fallbacks([failing(KeyError("second"))])
    with pytest.raises(ValueError) as info:
        runnable.invoke(1)
    assert info.value is first
    with pytest.raises(ValueError) as info:
        asyncio.run(runnable.ainvoke(1))
    assert info.value is first


def test_unhandled_errors_propagate_at_once() -> None:
    calls: list[Any] = []
    runnable = failing(KeyError("k")).with_fallbacks(
        [counting(calls)], exceptions_to_handle=(ValueError,)
    )
    with pytest.raises(KeyError):
        runnable.invoke(1)
    with pytest.raises(KeyError):
        asyncio.run(runnable.ainvoke(1))
    assert calls == []
    handled = failing(TimeoutError("t")).with_fallbacks(
        [counting(calls)], exceptions_to_handle=(ValueError, TimeoutError)
    )
    assert handled.invoke(2) == "ok"


def test_exception_key_passes_the_previous_error() -> None:
    seen: list[dict[str, Any]] = []
    second = ValueError("second")

    def record(x: dict[str, Any]) -> str:
        seen.append(x)
        if len(seen) == 1:
            raise second
        return "done"

    first = KeyError("first")
    runnable = failing(first).with_fallbacks(
        [RunnableLambda(record), RunnableLambda(record)], exception_key="error"
    )
    data = {"q": 1}
    assert runnable.invoke(data) == "done"
    assert seen[0] == {"q": 1, "error": first}
    assert seen[1] == {"q": 1, "error": second}  # the last error, not the first
    assert data == {"q": 1}  # the caller's dict is left alone
    with pytest.raises(ValueError, match="must be a dict"):
        runnable.invoke("text")
    with pytest.raises(ValueError, match="must be a dict"):
        asyncio.run(runnable.ainvoke("text"))
    with pytest.raises(ValueError, match="must be a dict"):
        runnable.batch(["text"])


def test_fallbacks_run_is_the_parent_of_each_attempt() -> None:
    recorder = Recorder()
    runnable = failing(ValueError("x")).with_fallbacks([RunnablePassthrough()])
    assert runnable.invoke(1, {"callbacks": [recorder]}) == 1
    root, *children = recorder.started
    assert root.name == "RunnableWithFallbacks"
    assert [c.parent_ids for c in children] == [[str(root.id)], [str(root.id)]]
    assert recorder.ended[-1] is root and len(recorder.errored) == 1


def test_batch_sends_only_the_failures_to_the_next_fallback() -> None:
    primary_calls: list[Any] = []
    fallback_calls: list[Any] = []

    def primary(x: int) -> str:
        primary_calls.append(x)
        if x % 2:
            raise ValueError(f"odd {x}")
        return f"p{x}"

    def fallback(x: int) -> str:
        fallback_calls.append(x)
        return f"f{x}"

    runnable = RunnableLambda(primary).with_fallbacks([RunnableLambda(fallback)])
    assert runnable.batch([0, 1, 2, 3]) == ["p0", "f1", "p2", "f3"]
    assert sorted(primary_calls) == [0, 1, 2, 3] and sorted(fallback_calls) == [1, 3]
    fallback_calls.clear()
    assert asyncio.run(runnable.abatch([1, 2])) == ["f1", "p2"]
    assert fallback_calls == [1]


def test_batch_errors_with_and_without_return_exceptions() -> None:
    def primary(x: int) -> int:
        if x == 1:
            raise ValueError("primary 1")
        if x == 2:
            raise KeyError("unhandled 2")
        return x

    runnable = RunnableLambda(primary).with_fallbacks(
        [failing(ValueError("fallback"))], exceptions_to_handle=(ValueError,)
    )
    out = runnable.batch([0, 1, 2], return_exceptions=True)
    assert out[0] == 0
    assert str(out[1]) == "primary 1"  # the first error of that input
    assert isinstance(out[2], KeyError)
    with pytest.raises(KeyError):
        runnable.batch([0, 1, 2])
    with pytest.raises(ValueError, match="primary 1"):
        runnable.batch([0, 1])
    out = asyncio.run(runnable.abatch([1, 2, 0], return_exceptions=True))
    assert str(out[0]) == "primary 1" and isinstance(out[1], KeyError) and out[2] == 0
    with pytest.raises(ValueError, match="primary 1"):
        asyncio.run(runnable.abatch([0, 1]))
    assert runnable.batch([]) == []


def test_batch_exception_key_and_runs() -> None:
    recorder = Recorder()
    seen: list[Any] = []

    def fallback(x: dict[str, Any]) -> str:
        seen.append(type(x["error"]).__name__)
        return "fixed"

    runnable = failing(ValueError("v")).with_fallbacks(
        [RunnableLambda(fallback)], exception_key="error"
    )
    assert runnable.batch([{"a": 1}, {"a": 2}], {"callbacks": [recorder]}) == ["fixed"] * 2
    assert seen == ["ValueError", "ValueError"]
    roots = [run for run in recorder.started if not run.parent_ids]
    assert [run.name for run in roots] == ["RunnableWithFallbacks"] * 2
    assert all(run in recorder.ended for run in roots)


def _fail_before_first(chunks: Iterator[Any]) -> Iterator[Any]:
    for _ in chunks:
        raise ValueError("before first chunk")
    yield "never"


def _fail_after_first(chunks: Iterator[Any]) -> Iterator[Any]:
    for _ in chunks:
        yield "partial"
        raise ValueError("after first chunk")


def _two_chunks(chunks: Iterator[Any]) -> Iterator[Any]:
    for _ in chunks:
        yield "fall"
        yield "back"


async def _afail_before_first(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for _ in chunks:
        raise ValueError("before first chunk")
    yield "never"


async def _afail_after_first(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for _ in chunks:
        yield "partial"
        raise ValueError("after first chunk")


async def _atwo_chunks(chunks: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for _ in chunks:
        yield "fall"
        yield "back"


def test_stream_falls_back_before_the_first_chunk_only() -> None:
    recorder = Recorder()
    early = RunnableGenerator(_fail_before_first).with_fallbacks([RunnableGenerator(_two_chunks)])
    assert list(early.stream(1, {"callbacks": [recorder]})) == ["fall", "back"]
    assert recorder.ended[-1].outputs == "fallback"  # the chunks' sum
    late = RunnableGenerator(_fail_after_first).with_fallbacks([RunnableGenerator(_two_chunks)])
    got: list[Any] = []
    with pytest.raises(ValueError, match="after first chunk"):
        for chunk in late.stream(1):
            got.append(chunk)
    assert got == ["partial"]
    both = RunnableGenerator(_fail_before_first).with_fallbacks(
        [RunnableGenerator(_fail_before_first)]
    )
    with pytest.raises(ValueError, match="before first chunk"):
        list(both.stream(1))


def test_astream_falls_back_before_the_first_chunk_only() -> None:
    async def collect(runnable: Any) -> list[Any]:
        got: list[Any] = []
        try:
            async for chunk in runnable.astream(1):
                got.append(chunk)
        except ValueError as exc:
            got.append(str(exc))
        return got

    early = RunnableGenerator(_afail_before_first).with_fallbacks([RunnableGenerator(_atwo_chunks)])
    assert asyncio.run(collect(early)) == ["fall", "back"]
    late = RunnableGenerator(_afail_after_first).with_fallbacks([RunnableGenerator(_atwo_chunks)])
    assert asyncio.run(collect(late)) == ["partial", "after first chunk"]


class Model(RunnableSerializable[Any, Any]):
    """A stand-in for a chat model with a method returning a new runnable."""

    label: str

    def bind_stop(self, stop: list[str]) -> Any:
        return self.bind(stop=stop)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return (self.label, kwargs)


def test_methods_returning_runnables_apply_to_every_fallback() -> None:
    runnable = Model(label="a").with_fallbacks([Model(label="b")])
    assert runnable.label == "a"  # plain attributes come from the first runnable
    bound = runnable.bind_stop(["x"])
    assert isinstance(bound, RunnableWithFallbacks)
    assert bound.invoke(0) == ("a", {"stop": ["x"]})
    assert [f.invoke(0) for f in bound.fallbacks] == [("b", {"stop": ["x"]})]


def test_fallback_schemas_come_from_the_first_runnable() -> None:
    pick = RunnablePick("a")
    runnable = pick.with_fallbacks([RunnablePassthrough()])
    assert runnable.get_input_jsonschema() == pick.get_input_jsonschema()
    assert runnable.get_output_jsonschema() == pick.get_output_jsonschema()
    assert runnable.sync_is_cheap is True


def test_fallbacks_wire_form_and_round_trip() -> None:
    runnable = RunnableParallel({"a": RunnablePick("a")}).with_fallbacks(
        [RunnablePassthrough()], exceptions_to_handle=(KeyError, TimeoutError), exception_key="e"
    )
    node = runwire.dumpd(runnable, dialect="langchain")
    assert node["id"] == [*LC, "RunnableWithFallbacks"]
    assert node["name"] == "RunnableWithFallbacks"
    assert list(node["kwargs"]) == [
        "runnable",
        "fallbacks",
        "exceptions_to_handle",
        "exception_key",
    ]
    assert node["kwargs"]["exceptions_to_handle"] == ["KeyError", "TimeoutError"]
    assert node["kwargs"]["fallbacks"][0]["id"] == [*LC, "RunnablePassthrough"]
    default = RunnablePassthrough().with_fallbacks([RunnablePassthrough()])
    assert runwire.dumpd(default)["kwargs"]["exceptions_to_handle"] == ["Exception"]
    for obj in (runnable, default):
        for dialect in ("runwire", "langchain"):
            text = runwire.dumps(obj, dialect=dialect)  # type: ignore[arg-type]
            back = runwire.loads(text, allowed_objects="all")
            assert type(back) is RunnableWithFallbacks and back == obj
            assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]
    back = runwire.loads(runwire.dumps(runnable), allowed_objects="all")
    assert back.invoke({"a": 1}) == {"a": 1}
    assert back.exceptions_to_handle == (KeyError, TimeoutError)


def test_retry_inside_fallbacks_round_trips() -> None:
    runnable = (
        RunnablePassthrough()
        .with_retry(stop_after_attempt=5)
        .with_fallbacks([RunnablePick("x").with_config(tags=["fb"])])
    )
    text = runwire.dumps(runnable, dialect="langchain")
    back = runwire.loads(text, allowed_objects="all")
    assert back == runnable
    assert back.runnable.max_attempt_number == 5
    assert back.invoke({"x": 1}) == {"x": 1}


def test_config_is_passed_to_fallback_runs() -> None:
    recorder = Recorder()
    runnable = failing(ValueError("x")).with_fallbacks([RunnablePassthrough()])
    config: RunnableConfig = {"callbacks": [recorder], "tags": ["t"], "metadata": {"m": 1}}
    assert runnable.invoke(1, config) == 1
    assert all("t" in run.tags and run.metadata == {"m": 1} for run in recorder.started)


class Cancelled(BaseException):
    pass


def test_base_exceptions_are_never_retried() -> None:
    calls: list[int] = []

    def cancel(x: int) -> int:
        calls.append(x)
        raise Cancelled

    runnable = RunnableRetry(
        bound=RunnableLambda(cancel), retry_exception_types=lambda exc: True, max_attempt_number=3
    )
    with pytest.raises(Cancelled):
        runnable.invoke(1)
    with pytest.raises(Cancelled):
        asyncio.run(runnable.ainvoke(2))
    assert calls == [1, 2]
