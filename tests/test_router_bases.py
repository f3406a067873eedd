"""RouterRunnable, RunnableBindingBase and RunnableEachBase: calls as in LangChain, the
files langchain-core wrote (fixtures) load, run with LangChain's recorded outputs and dump
back byte for byte; with the peer installed, langchain-core loads what runwire writes."""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import runwire
from runtime_helpers import Recorder
from runwire.runtime.binding import RunnableBinding, RunnableBindingBase
from runwire.runtime.configurable import ConfigurableField
from runwire.runtime.each import RunnableEach, RunnableEachBase
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.passthrough import RunnablePassthrough
from runwire.runtime.prompts import PromptTemplate
from runwire.runtime.router import RouterRunnable

DATA = json.loads((Path(__file__).parent / "fixtures" / "langchain_data.json").read_text())
CASES: dict[str, str] = DATA["cases"]
RESULTS: dict[str, str] = DATA["results"]
RUNNABLE_CASES = ["router", "binding_base", "each_base", "core_id_router"]


def compact(text: str) -> str:
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)


def load(text: str) -> Any:
    return runwire.loads(text, allowed_objects="all")


def recorded(name: str) -> Any:
    return load(RESULTS[name])


def router(**extra: Any) -> RouterRunnable:
    return RouterRunnable({"double": lambda x: x * 2, "same": RunnablePassthrough(), **extra})


# -- RouterRunnable ----------------------------------------------------------------------
def test_router_routes_by_key() -> None:
    r = router()
    assert r.invoke({"key": "double", "input": 4}) == 8
    assert r.invoke({"key": "same", "input": "x"}) == "x"
    assert isinstance(r.runnables["double"], RunnableLambda)  # callables are coerced
    with pytest.raises(ValueError, match="No runnable associated with key 'nope'"):
        r.invoke({"key": "nope", "input": 1})
    with pytest.raises(KeyError):
        r.invoke({"input": 1})  # type: ignore[typeddict-item]


def test_router_batch_checks_every_key_first() -> None:
    seen: list[Any] = []
    r = router(spy=lambda x: seen.append(x) or x)
    assert r.batch([{"key": "double", "input": 1}, {"key": "same", "input": 2}]) == [2, 2]
    with pytest.raises(ValueError, match="One or more keys"):
        r.batch([{"key": "spy", "input": 1}, {"key": "nope", "input": 2}])
    assert seen == []  # nothing ran
    assert r.batch([]) == []


def test_router_batch_return_exceptions_and_kwargs() -> None:
    def fail(x: Any) -> Any:
        raise RuntimeError(f"bad {x}")

    r = router(fail=fail)
    out = r.batch(
        [{"key": "fail", "input": 1}, {"key": "double", "input": 3}], return_exceptions=True
    )
    assert isinstance(out[0], RuntimeError) and out[1] == 6
    with pytest.raises(RuntimeError, match="bad 1"):
        r.batch([{"key": "fail", "input": 1}, {"key": "same", "input": 3}])
    got = asyncio.run(
        r.abatch(
            [{"key": "fail", "input": 2}, {"key": "double", "input": 3}],
            return_exceptions=True,
        )
    )
    assert isinstance(got[0], RuntimeError) and got[1] == 6


def test_router_async_and_streams() -> None:
    r = router()
    assert asyncio.run(r.ainvoke({"key": "double", "input": 5})) == 10
    batch = asyncio.run(
        r.abatch(
            [{"key": "double", "input": 1}, {"key": "same", "input": 2}], {"max_concurrency": 1}
        )
    )
    assert batch == [2, 2]
    with pytest.raises(ValueError, match="One or more keys"):
        asyncio.run(r.abatch([{"key": "nope", "input": 1}]))
    assert list(r.stream({"key": "same", "input": "s"})) == ["s"]

    async def collect() -> list[Any]:
        return [c async for c in r.astream({"key": "double", "input": 2})]

    assert asyncio.run(collect()) == [4]


def test_router_passes_the_config_and_adds_no_run_of_its_own() -> None:
    rec = Recorder()
    r = router()
    r.invoke({"key": "double", "input": 1}, {"callbacks": [rec], "tags": ["t"]})
    assert [run.name for run in rec.started] == ["RunnableLambda"]  # the route's run only
    assert rec.started[0].tags == ["t"]


def test_router_schema_specs_and_name() -> None:
    prompt = PromptTemplate.from_template("{x}").configurable_fields(
        template=ConfigurableField(id="tpl")
    )
    r = RouterRunnable({"p": prompt})
    assert [s.id for s in r.config_specs] == ["tpl"]
    assert r.get_name() == "RouterRunnable"
    schema = r.get_input_jsonschema()
    assert schema["title"] == "RouterRunnableInput"
    assert schema["$defs"]["RouterInput"]["required"] == ["key", "input"]


def test_router_schema_matches_langchain() -> None:
    lc = pytest.importorskip("langchain_core.runnables")
    theirs = lc.RouterRunnable({"a": lc.RunnablePassthrough()}).get_input_jsonschema()
    assert RouterRunnable({"a": RunnablePassthrough()}).get_input_jsonschema() == theirs


# -- the bases ----------------------------------------------------------------------------
def test_binding_base_calls_like_a_binding() -> None:
    seen: list[Any] = []

    def probe(x: Any, config: Any) -> Any:
        seen.append(config.get("tags"))
        return x

    base = RunnableBindingBase(bound=RunnableLambda(probe), kwargs={}, config={"tags": ["b"]})
    assert base.invoke(1, {"tags": ["c"]}) == 1 and sorted(seen[-1]) == ["b", "c"]
    assert base.batch([1, 2]) == [1, 2]
    assert asyncio.run(base.ainvoke(3)) == 3
    assert list(base.stream(4)) == [4]
    assert base.get_name() == "probe"


def test_binding_base_wraps_instead_of_folding() -> None:
    base = RunnableBindingBase(bound=RunnablePassthrough(), kwargs={})
    bound = base.bind(stop=["x"])
    assert type(bound) is RunnableBinding and bound.bound is base
    configured = base.with_config(tags=["t"])
    assert type(configured) is RunnableBinding and configured.bound is base
    folded = RunnableBinding(bound=RunnablePassthrough()).bind(stop=["x"])
    assert type(folded.bound) is RunnablePassthrough
    prompt = PromptTemplate.from_template("{x}")
    assert RunnableBinding(bound=prompt).template == "{x}"  # forwarded to the bound prompt
    with pytest.raises(AttributeError):
        RunnableBindingBase(bound=prompt).template  # noqa: B018 - the base does not forward


def test_each_base_maps_and_keeps_its_name() -> None:
    base = RunnableEachBase(bound=RunnableLambda(lambda x: x + 1))
    assert base.invoke([1, 2]) == [2, 3]
    assert asyncio.run(base.ainvoke([3])) == [4]
    assert base.get_name() == "RunnableEachBase"
    assert (
        RunnableEach(bound=RunnablePassthrough()).get_name() == "RunnableEach<RunnablePassthrough>"
    )
    wrapped = base.with_config(tags=["t"])
    assert type(wrapped) is RunnableBinding and wrapped.bound is base
    each = RunnableEach(bound=RunnablePassthrough()).with_config(tags=["t"])
    assert type(each) is RunnableEach  # RunnableEach applies it to the bound runnable
    with pytest.raises(TypeError, match="list input"):
        base.invoke("not a list")


# -- wire form ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", RUNNABLE_CASES)
def test_langchain_written_runnables_load_and_dump_back(name: str) -> None:
    obj = load(CASES[name])
    want = json.loads(CASES[name])
    if name == "core_id_router":
        want["id"] = ["langchain", "schema", "runnable", "RouterRunnable"]
    assert runwire.dumps(obj, dialect="langchain") == compact(json.dumps(want))
    assert load(runwire.dumps(obj)) == obj


def test_loaded_runnables_are_the_base_classes_and_run_like_langchain() -> None:
    r = load(CASES["router"])
    assert type(r) is RouterRunnable
    assert r.invoke({"key": "upper", "input": {"word": "hi"}}) == recorded("router_invoke")
    inputs = [{"key": "same", "input": 1}, {"key": "upper", "input": {"word": "yo"}}]
    assert r.batch(inputs) == recorded("router_batch")
    assert list(r.stream({"key": "same", "input": "s"})) == recorded("router_stream")
    binding = load(CASES["binding_base"])
    assert type(binding) is RunnableBindingBase
    assert binding.kwargs == {"stop": ["x"]} and binding.config == {"tags": ["t"]}
    each = load(CASES["each_base"])
    assert type(each) is RunnableEachBase
    assert each.invoke([{"a": 1}, {"a": 2}]) == recorded("each_base_invoke")


@pytest.mark.parametrize("name", RUNNABLE_CASES)
def test_langchain_loads_what_runwire_writes(name: str) -> None:
    lc_load = pytest.importorskip("langchain_core.load")
    text = runwire.dumps(load(CASES[name]), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = lc_load.loads(text, allowed_objects="all")
    assert compact(lc_load.dumps(theirs)) == compact(text)
    assert type(theirs).__name__ == type(load(CASES[name])).__name__


def test_router_events_are_the_routes_only() -> None:
    """LangChain's events for a router: the chosen route's, none of the router's own."""

    def f(x: int) -> int:
        return x * 2

    async def events() -> list[tuple[str, str]]:
        r = RouterRunnable({"a": RunnableLambda(f)})
        stream = r.astream_events({"key": "a", "input": 2}, version="v2")
        return [(e["event"], e["name"]) async for e in stream]

    assert asyncio.run(events()) == [
        ("on_chain_start", "f"),
        ("on_chain_stream", "f"),
        ("on_chain_end", "f"),
    ]


def test_router_in_the_authoring_form(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(
        "_type: RouterRunnable\n"
        "runnables:\n"
        "  poem: {_type: PromptTemplate, template: 'A poem about {topic}'}\n"
        "  same: {_type: RunnablePassthrough}\n"
        "  each: {_type: RunnableEachBase, bound: {_type: RunnablePassthrough}}\n",
        encoding="utf-8",
    )
    r = runwire.load_file(path)
    assert type(r) is RouterRunnable
    assert r.invoke({"key": "poem", "input": {"topic": "sea"}}).to_string() == "A poem about sea"
    assert r.invoke({"key": "each", "input": [1, 2]}) == [1, 2]
    assert load(runwire.dumps(r)) == r
