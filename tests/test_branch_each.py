"""RunnableBranch and RunnableEach: choosing, streaming, mapping, schemas, wire form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import runwire
from runtime_helpers import LC, Echo, Recorder
from runwire.errors import NotSerializableError
from runwire.runtime.binding import RunnableBinding
from runwire.runtime.branch import RunnableBranch
from runwire.runtime.each import RunnableEach
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.sequence import RunnableSequence


def size_branch(checked: list[str] | None = None) -> RunnableBranch:
    def check(name: str, limit: int) -> Any:
        def condition(x: int) -> bool:
            if checked is not None:
                checked.append(name)
            return x < limit

        return condition

    return RunnableBranch(
        (check("small", 10), lambda x: f"small {x}"),
        (check("medium", 100), lambda x: f"medium {x}"),
        lambda x: f"large {x}",
    )


# == RunnableBranch ==========================================================================
def test_first_true_condition_wins_else_default() -> None:
    branch = size_branch()
    assert [branch.invoke(x) for x in (1, 50, 500)] == ["small 1", "medium 50", "large 500"]
    assert asyncio.run(branch.ainvoke(50)) == "medium 50"
    assert branch.batch([5, 5000]) == ["small 5", "large 5000"]


def test_conditions_are_evaluated_in_order_and_stop_at_the_match() -> None:
    checked: list[str] = []
    branch = size_branch(checked)
    branch.invoke(5)
    assert checked == ["small"]
    checked.clear()
    asyncio.run(branch.ainvoke(500))
    assert checked == ["small", "medium"]


def test_runnable_conditions_and_dict_default() -> None:
    branch = RunnableBranch(
        (RunnablePick("use_a"), RunnablePick("a")),
        {"echo": RunnablePick("b")},
    )
    assert branch.invoke({"use_a": True, "a": 1, "b": 2}) == 1
    assert branch.invoke({"use_a": False, "a": 1, "b": 2}) == {"echo": 2}
    assert isinstance(branch.default, RunnableParallel)


def test_kwargs_reach_the_chosen_branch() -> None:
    echo = Echo()
    branch = RunnableBranch((lambda x: x == "e", echo), RunnablePassthrough())
    assert branch.invoke("e", stop=["x"]) == {"input": "e", "kwargs": {"stop": ["x"]}}
    assert asyncio.run(branch.ainvoke("e", k=1))["kwargs"] == {"k": 1}
    assert echo.calls == [{"stop": ["x"]}, {"k": 1}]


def test_runs_are_tagged_with_condition_and_branch() -> None:
    recorder = Recorder()
    branch = size_branch()
    branch.invoke(50, {"callbacks": [recorder]})
    root, *children = recorder.started
    assert root.name == "RunnableBranch"
    assert [run.tags for run in children] == [["condition:1"], ["condition:2"], ["branch:2"]]
    assert all(run.parent_ids == [str(root.id)] for run in children)
    assert recorder.ended[-1] is root and root.outputs == "medium 50"
    recorder.started.clear()
    asyncio.run(branch.ainvoke(500, {"callbacks": [recorder]}))
    assert recorder.started[-1].tags == ["branch:default"]


def test_errors_propagate_and_close_the_run() -> None:
    recorder = Recorder()

    def boom(x: Any) -> Any:
        raise RuntimeError("in branch")

    branch = RunnableBranch((lambda x: True, boom), RunnablePassthrough())
    with pytest.raises(RuntimeError, match="in branch"):
        branch.invoke(1, {"callbacks": [recorder]})
    assert recorder.errored[-1].name == "RunnableBranch"
    with pytest.raises(RuntimeError, match="in branch"):
        asyncio.run(branch.ainvoke(1))

    def bad_condition(x: Any) -> bool:
        raise KeyError("in condition")

    with pytest.raises(KeyError):
        RunnableBranch((bad_condition, boom), RunnablePassthrough()).invoke(1)


def _words(chunks: Iterator[str]) -> Iterator[str]:
    for text in chunks:
        yield from text.split()


async def _awords(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    async for text in chunks:
        for word in text.split():
            yield word


def test_stream_streams_the_chosen_branch() -> None:
    recorder = Recorder()
    branch = RunnableBranch(
        (lambda x: x.startswith("split"), RunnableGenerator(_words)),
        RunnablePassthrough(),
    )
    assert list(branch.stream("split these words", {"callbacks": [recorder]})) == [
        "split",
        "these",
        "words",
    ]
    root = recorder.started[0]
    assert root.name == "RunnableBranch" and root.inputs == "split these words"
    assert root.outputs == "splitthesewords"  # the chunks' sum
    assert list(branch.stream("keep whole")) == ["keep whole"]


def test_astream_streams_the_chosen_branch() -> None:
    branch = RunnableBranch(
        (RunnableLambda(lambda x: x.startswith("split")), RunnableGenerator(_awords)),
        RunnablePassthrough(),
    )

    async def collect(value: str) -> list[str]:
        return [chunk async for chunk in branch.astream(value)]

    assert asyncio.run(collect("split a b")) == ["split", "a", "b"]
    assert asyncio.run(collect("whole")) == ["whole"]


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((), ValueError, "at least 2"),
        ((RunnablePassthrough(),), ValueError, "at least 2"),
        ((RunnablePassthrough(), RunnablePassthrough()), TypeError, "pair"),
        (((RunnablePassthrough(),), RunnablePassthrough()), ValueError, "got 1 items"),
        (((lambda x: True, RunnablePassthrough()), 42), TypeError, "default"),
    ],
)
def test_constructor_errors(args: tuple[Any, ...], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        RunnableBranch(*args)


def test_keyword_construction_coerces_too() -> None:
    branch = RunnableBranch(branches=[(lambda x: x > 0, lambda x: "pos")], default=lambda x: "neg")
    assert branch.invoke(1) == "pos" and branch.invoke(-1) == "neg"


def test_input_schema_comes_from_the_first_typed_runnable() -> None:
    typed = RunnablePassthrough().with_types(input_type=int)
    branch = RunnableBranch((RunnablePick("x"), RunnablePassthrough()), typed)
    assert branch.get_input_jsonschema() == {"title": "RunnablePassthroughInput", "type": "integer"}
    untyped = RunnableBranch((RunnablePick("x"), RunnablePassthrough()), RunnablePassthrough())
    assert untyped.get_input_jsonschema().get("type") is None
    assert untyped.config_specs == []
    assert untyped.sync_is_cheap is True


def test_branch_wire_form_and_round_trip() -> None:
    branch = RunnableBranch(
        (RunnablePick("flag"), RunnableParallel({"a": RunnablePick("a")})),
        (RunnablePick("other"), RunnablePick("b").with_config(tags=["b"])),
        RunnablePassthrough(),
    )
    node = runwire.dumpd(branch, dialect="langchain")
    assert node["id"] == [*LC, "RunnableBranch"]
    assert node["name"] == "RunnableBranch"
    assert list(node["kwargs"]) == ["branches", "default"]
    first_condition, first_runnable = node["kwargs"]["branches"][0]
    assert first_condition["id"] == [*LC, "RunnablePick"]
    assert first_runnable["id"] == [*LC, "RunnableParallel"]
    for dialect in ("runwire", "langchain"):
        text = runwire.dumps(branch, dialect=dialect)  # type: ignore[arg-type]
        back = runwire.loads(text, allowed_objects="all")
        assert type(back) is RunnableBranch and back == branch
        assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]
    back = runwire.loads(runwire.dumps(branch), allowed_objects="all")
    assert back.invoke({"flag": 1, "a": 2}) == {"a": 2}
    assert back.invoke({"flag": 0, "other": 1, "b": 3}) == 3
    assert back.invoke({"flag": 0, "other": 0}) == {"flag": 0, "other": 0}


def test_branch_with_lambdas_dumps_but_does_not_load() -> None:
    text = runwire.dumps(size_branch())
    assert '"not_implemented"' in text
    with pytest.raises(NotSerializableError):
        runwire.loads(text, allowed_objects="all")


# == RunnableEach ============================================================================
def test_each_applies_the_runnable_to_every_item() -> None:
    each = RunnablePick("a").map()
    assert isinstance(each, RunnableEach)
    assert each.invoke([{"a": 1}, {"a": 2}]) == [1, 2]
    assert asyncio.run(each.ainvoke([{"a": 3}])) == [3]
    assert each.invoke([]) == []
    assert each.batch([[{"a": 1}], [{"a": 2}, {"a": 3}]]) == [[1], [2, 3]]
    assert list(each.stream([{"a": 4}])) == [[4]]


def test_each_passes_kwargs_and_errors() -> None:
    echo = Echo()
    each = RunnableEach(bound=echo)
    assert [o["kwargs"] for o in each.invoke(["x", "y"], k=1)] == [{"k": 1}, {"k": 1}]
    assert [o["kwargs"] for o in asyncio.run(each.ainvoke(["x"], k=2))] == [{"k": 2}]
    assert echo.calls == [{"k": 1}, {"k": 1}, {"k": 2}]

    def fail_on_b(x: str) -> str:
        if x == "b":
            raise ValueError("b")
        return x

    with pytest.raises(ValueError, match="b"):
        RunnableLambda(fail_on_b).map().invoke(["a", "b"])
    with pytest.raises(ValueError, match="b"):
        asyncio.run(RunnableLambda(fail_on_b).map().ainvoke(["a", "b"]))


@pytest.mark.parametrize("value", ["text", {"a": 1}, 3])
def test_each_rejects_non_list_input(value: Any) -> None:
    with pytest.raises(TypeError, match="list input"):
        RunnablePassthrough().map().invoke(value)


def test_each_runs_one_child_per_item() -> None:
    recorder = Recorder()
    each = RunnablePick("a").map()
    each.invoke([{"a": 1}, {"a": 2}], {"callbacks": [recorder], "tags": ["t"]})
    root, *children = recorder.started
    assert root.name == "RunnableEach<RunnablePick<a>>"
    assert [c.name for c in children] == ["RunnablePick<a>"] * 2
    assert all(c.parent_ids == [str(root.id)] and c.tags == ["t"] for c in children)
    assert root.outputs == [1, 2]


def test_each_schemas_are_lists_of_the_bound_schemas() -> None:
    each = RunnablePassthrough().with_types(input_type=int, output_type=str).map()
    assert each.InputType == list[int] and each.OutputType == list[str]
    input_schema = each.get_input_jsonschema()
    assert input_schema["type"] == "array"
    assert input_schema["title"] == "RunnableEach<RunnablePassthrough>Input"
    ref = input_schema["items"]["$ref"].rsplit("/", 1)[1]
    assert input_schema["$defs"][ref]["type"] == "integer"
    output_schema = each.get_output_jsonschema()
    ref = output_schema["items"]["$ref"].rsplit("/", 1)[1]
    assert output_schema["$defs"][ref]["type"] == "string"
    assert each.config_specs == []


def test_each_wrappers_apply_to_the_bound_runnable() -> None:
    echo = Echo()
    each = RunnableEach(bound=echo)
    bound = each.bind(k=1)
    assert isinstance(bound, RunnableEach) and isinstance(bound.bound, RunnableBinding)
    assert bound.invoke(["x"])[0]["kwargs"] == {"k": 1}
    configured = each.with_config(tags=["t"])
    assert isinstance(configured, RunnableEach) and configured.bound.config == {"tags": ["t"]}
    ends: list[Any] = []
    listened = each.with_listeners(on_end=lambda run: ends.append(run.outputs))
    assert isinstance(listened, RunnableEach)
    listened.invoke(["a", "b"])
    assert [e["input"] for e in ends] == ["a", "b"]  # one run per item


def test_each_wire_form_and_round_trip() -> None:
    each = RunnableSequence(RunnablePassthrough(), RunnablePick("a")).map()
    node = runwire.dumpd(each, dialect="langchain")
    assert node["id"] == [*LC, "RunnableEach"]
    assert node["name"] == "RunnableEach<RunnableSequence>"
    assert list(node["kwargs"]) == ["bound"]
    assert node["kwargs"]["bound"]["id"] == [*LC, "RunnableSequence"]
    for dialect in ("runwire", "langchain"):
        text = runwire.dumps(each, dialect=dialect)  # type: ignore[arg-type]
        back = runwire.loads(text, allowed_objects="all")
        assert type(back) is RunnableEach and back == each
        assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]
    assert runwire.loads(runwire.dumps(each)).invoke([{"a": 5}]) == [5]
    assert runwire.dumpd(each)["id"] == ["runwire", "runnables", "RunnableEach"]
