"""Semantic checks of built pipelines: step compatibility, prompt variables, configurable ids."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import Field

import runwire
from runwire.loader import shapes
from runwire.loader.checks import Node, Problem, check_pipeline, iter_nodes
from runwire.runtime import (
    ChatPromptTemplate,
    CommaSeparatedListOutputParser,
    ConfigurableField,
    ConfigurableFieldSingleOption,
    FakeChatModel,
    JsonOutputParser,
    PromptTemplate,
    Runnable,
    RunnableBranch,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnablePick,
    RunnableSequence,
    RunnableSerializable,
    StrOutputParser,
)


# -- helpers ---------------------------------------------------------------------------
def chat_prompt() -> ChatPromptTemplate:
    """A prompt with two variables: 'question' and 'role'."""
    return ChatPromptTemplate.from_messages(
        [("system", "You are {role}."), ("human", "{question}")]
    )


def model(*answers: str) -> FakeChatModel:
    return FakeChatModel(responses=list(answers or ["ok"]))


def identity(value: Any) -> Any:
    return value


class Declared(Runnable[Any, Any]):
    """A runnable with hand-written JSON Schemas (overriding ``get_*_jsonschema``)."""

    def __init__(self, input_schema: dict[str, Any], output_schema: dict[str, Any]) -> None:
        self.declared_input = input_schema
        self.declared_output = output_schema

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return input

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.declared_input

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        return self.declared_output


def kinds(problems: list[Problem]) -> list[str]:
    return [p.kind for p in problems]


# -- sequences: what is reported --------------------------------------------------------
def test_prompt_after_a_string_parser_names_both_steps_and_the_variables() -> None:
    [problem] = check_pipeline(model() | StrOutputParser() | chat_prompt())
    assert problem.kind == "prompt-variables"
    assert problem.message == (
        "step 2 (ChatPromptTemplate) is missing prompt variables 'question', 'role': "
        "step 1 (StrOutputParser) outputs a string"
    )
    assert problem.path == ()
    assert "parallel" in problem.hint


def test_prompt_after_a_chat_model_is_reported() -> None:
    [problem] = check_pipeline(model() | chat_prompt())
    assert problem.kind == "prompt-variables"
    assert "step 1 (ChatPromptTemplate)" in problem.message
    assert "step 0 (FakeChatModel) outputs an AIMessage" in problem.message


def test_prompt_after_a_parallel_producing_its_variables_is_fine() -> None:
    fan_out = RunnableParallel(question=RunnablePassthrough(), role=RunnableLambda(identity))
    assert check_pipeline(fan_out | chat_prompt() | model() | StrOutputParser()) == []


def test_prompt_after_a_parallel_missing_one_variable_names_it() -> None:
    fan_out = RunnableParallel(question=RunnablePassthrough())
    [problem] = check_pipeline(fan_out | chat_prompt())
    assert problem.kind == "prompt-variables"
    assert "missing prompt variable 'role':" in problem.message
    assert "'question', 'role'" not in problem.message
    assert "RunnableParallel<question>) outputs an object with 'question'" in problem.message


@pytest.mark.parametrize(
    "pipeline",
    [
        pytest.param(lambda: chat_prompt() | model(), id="model after prompt"),
        pytest.param(lambda: model() | StrOutputParser(), id="parser after model"),
        pytest.param(lambda: model() | JsonOutputParser(), id="json parser after model"),
        pytest.param(lambda: PromptTemplate.from_template("{a} {b}") | model(), id="text prompt"),
        pytest.param(lambda: chat_prompt() | model().bind(stop=["x"]), id="bound model"),
        pytest.param(lambda: chat_prompt() | model().with_retry(), id="retried model"),
        pytest.param(lambda: chat_prompt() | model().with_fallbacks([model()]), id="fallbacks"),
        pytest.param(lambda: model() | StrOutputParser() | model(), id="model after string"),
        pytest.param(lambda: model() | model(), id="model after model (a message)"),
        pytest.param(lambda: RunnableLambda(identity) | chat_prompt(), id="lambda: unknown"),
        pytest.param(lambda: model() | JsonOutputParser() | chat_prompt(), id="json: any"),
    ],
)
def test_compatible_pairs_are_not_reported(pipeline: Any) -> None:
    assert check_pipeline(pipeline()) == []


def test_the_first_step_is_never_checked() -> None:
    # a prompt first needs a dict, a parser first needs a message: nothing precedes them
    assert check_pipeline(chat_prompt() | model()) == []
    assert check_pipeline(StrOutputParser() | RunnableLambda(identity)) == []


def test_a_parser_after_a_prompt_is_a_step_mismatch() -> None:
    [problem] = check_pipeline(chat_prompt() | StrOutputParser())
    assert problem.kind == "step-mismatch"
    assert problem.message.startswith("step 1 (StrOutputParser) needs a string, an AIMessage")
    assert (
        "step 0 (ChatPromptTemplate) outputs a StringPromptValue or a ChatPromptValueConcrete"
        in (problem.message)
    )


def test_a_model_after_a_dict_is_a_step_mismatch() -> None:
    [problem] = check_pipeline(RunnableParallel(a=model()) | model())
    assert problem.kind == "step-mismatch"
    assert "step 1 (FakeChatModel) needs a string or an array" in problem.message
    assert "outputs an object with 'a'" in problem.message


def test_a_prompt_after_a_list_output_is_reported() -> None:
    [problem] = check_pipeline(model() | CommaSeparatedListOutputParser() | chat_prompt())
    assert problem.kind == "prompt-variables"
    assert "outputs an array" in problem.message


def test_one_variable_prompt_after_a_string_is_lenient_only_on_request() -> None:
    pipeline = model() | StrOutputParser() | ChatPromptTemplate.from_template("Summarize {text}")
    [problem] = check_pipeline(pipeline)
    assert problem.kind == "prompt-variables"
    assert "missing prompt variable 'text'" in problem.message
    assert check_pipeline(pipeline, lenient_single_variable=True) == []
    # lenient or not, a dict without the key is still missing it
    keyed = RunnableParallel(other=RunnablePassthrough()) | ChatPromptTemplate.from_template("{x}")
    assert kinds(check_pipeline(keyed, lenient_single_variable=True)) == ["prompt-variables"]


def test_a_problem_does_not_cascade_to_the_next_pair() -> None:
    problems = check_pipeline(model() | chat_prompt() | model() | StrOutputParser())
    assert [p.message.split(")")[0] for p in problems] == ["step 1 (ChatPromptTemplate"]


# -- what flows through passthrough, assign, pick ----------------------------------------
def test_passthrough_forwards_what_it_receives() -> None:
    fan_out = RunnableParallel(question=RunnablePassthrough())
    [problem] = check_pipeline(fan_out | RunnablePassthrough() | chat_prompt())
    assert "step 2 (ChatPromptTemplate) is missing prompt variable 'role'" in problem.message
    assert "step 1 (RunnablePassthrough) outputs an object with 'question'" in problem.message
    [problem] = check_pipeline(model() | StrOutputParser() | RunnablePassthrough() | chat_prompt())
    assert "outputs a string" in problem.message
    tagged = RunnablePassthrough().with_config(tags=["seen"])  # a binding forwards too
    [problem] = check_pipeline(fan_out | tagged | chat_prompt())
    assert "outputs an object with 'question'" in problem.message


def test_assign_adds_keys_to_what_it_receives() -> None:
    fan_out = RunnableParallel(question=RunnablePassthrough())
    with_role = fan_out | RunnablePassthrough.assign(role=RunnableLambda(identity))
    assert check_pipeline(with_role | chat_prompt()) == []
    without = fan_out | RunnablePassthrough.assign(other=RunnableLambda(identity)) | chat_prompt()
    [problem] = check_pipeline(without)
    assert "missing prompt variable 'role'" in problem.message
    assert "outputs an object with 'question', 'other'" in problem.message


def test_assign_on_an_unknown_input_is_an_open_dict() -> None:
    pipeline = RunnableLambda(identity) | RunnablePassthrough.assign(x=RunnableLambda(identity))
    assert check_pipeline(pipeline | chat_prompt()) == []


def test_pick_takes_the_key_shape_from_the_dict_before_it() -> None:
    fan_out = RunnableParallel(text=model() | StrOutputParser(), raw=RunnablePassthrough())
    [problem] = check_pipeline(fan_out | RunnablePick("text") | chat_prompt())
    assert "step 1 (RunnablePick<text>) outputs a string" in problem.message
    [problem] = check_pipeline(fan_out | RunnablePick(["text", "raw"]) | chat_prompt())
    assert "outputs an object with 'text', 'raw'" in problem.message
    assert check_pipeline(fan_out | RunnablePick("raw") | chat_prompt()) == []  # unknown


# -- schemas written by hand: $ref, anyOf, unknown -----------------------------------------
@pytest.mark.parametrize(
    ("needed", "reported"),
    [
        ({}, False),
        ({"title": "Anything"}, False),
        ({"type": "string"}, False),
        ({"type": ["integer", "string"]}, False),
        (
            {
                "anyOf": [{"type": "null"}, {"$ref": "#/$defs/Text"}],
                "$defs": {"Text": {"type": "string"}},
            },
            False,
        ),
        ({"$ref": "#/$defs/Count", "$defs": {"Count": {"type": "integer"}}}, True),
        ({"$ref": "#/$defs/Loop", "$defs": {"Loop": {"$ref": "#/$defs/Loop"}}}, False),
        ({"$ref": "#/$defs/Missing"}, False),
        ({"type": "array", "items": {"type": "string"}}, True),
        ({"allOf": [{"type": "integer"}]}, True),
        ({"allOf": [{"type": "integer"}, {"minimum": 1}]}, False),
        ({"enum": ["a", "b"]}, False),
        ({"const": 3}, True),
        ({"type": "object", "additionalProperties": True}, True),
    ],
)
def test_hand_written_schemas_after_a_string(needed: dict[str, Any], reported: bool) -> None:
    pipeline = model() | StrOutputParser() | Declared(needed, {})
    assert bool(check_pipeline(pipeline)) is reported


def test_object_keys_matter_only_when_the_producer_is_closed() -> None:
    needs_x = {"type": "object", "properties": {"x": {}}, "required": ["x"]}
    closed = {"type": "object", "properties": {"y": {"type": "string"}}}
    open_ = {**closed, "additionalProperties": True}
    [problem] = check_pipeline(Declared({}, closed) | Declared(needs_x, {}))
    assert problem.kind == "step-mismatch"
    assert problem.message == (
        "step 1 (Declared) needs an object with 'x', but step 0 (Declared) outputs an "
        "object with 'y' (missing 'x')"
    )
    assert check_pipeline(Declared({}, open_) | Declared(needs_x, {})) == []
    assert check_pipeline(Declared({}, {"type": "object"}) | Declared(needs_x, {})) == []


def test_integer_is_a_number_but_not_the_other_way() -> None:
    number, integer = {"type": "number"}, {"type": "integer"}
    assert check_pipeline(Declared({}, integer) | Declared(number, {})) == []
    [problem] = check_pipeline(Declared({}, number) | Declared(integer, {}))
    assert problem.message == (
        "step 1 (Declared) needs an integer, but step 0 (Declared) outputs a number"
    )


def test_union_output_is_fine_when_one_member_fits() -> None:
    either = {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"x": {}}}]}
    needs_x = {"type": "object", "properties": {"x": {}}, "required": ["x"]}
    assert check_pipeline(Declared({}, either) | Declared(needs_x, {})) == []


def test_schema_errors_count_as_unknown() -> None:
    class Broken(Declared):
        def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
            raise RuntimeError("no schema today")

    assert check_pipeline(model() | StrOutputParser() | Broken({}, {})) == []


def test_annotation_shapes_agree_with_json_schema_shapes() -> None:
    def keys(shape: Any) -> Any:
        members = shapes._members(shape)
        return (
            sorted(
                (
                    (type(m).__name__, m.name)
                    if isinstance(m, shapes._Type)
                    else (m.model, sorted(m.props or ()), sorted(m.required), m.closed)
                )
                for m in members
            )
            if shape is not None
            else None
        )

    samples = [
        chat_prompt(),
        StrOutputParser(),
        model(),
        CommaSeparatedListOutputParser(),
        RunnableParallel(a=StrOutputParser(), b=RunnablePassthrough()),
        RunnablePassthrough.assign(x=chat_prompt()),
    ]
    for runnable in samples:
        for direction in ("input", "output"):
            schema_model = getattr(runnable, f"get_{direction}_schema")()
            schema = schema_model.model_json_schema()
            fast = shapes.model_shape(schema_model)
            assert keys(fast) == keys(shapes.json_shape(schema, schema.get("$defs"))), (
                runnable.get_name(),
                direction,
            )


# -- nested sequences ----------------------------------------------------------------------
def bad() -> Runnable[Any, Any]:
    return model() | StrOutputParser() | chat_prompt()


@pytest.mark.parametrize(
    "pipeline",
    [
        pytest.param(lambda: RunnableParallel(a=bad(), b=RunnablePassthrough()), id="parallel"),
        pytest.param(lambda: RunnableBranch((RunnableLambda(bool), bad()), model()), id="branch"),
        pytest.param(lambda: RunnableBranch((RunnableLambda(bool), model()), bad()), id="default"),
        pytest.param(lambda: model().with_fallbacks([bad()]), id="fallbacks"),
        pytest.param(lambda: bad().with_retry(), id="retry"),
        pytest.param(lambda: bad().bind(stop=["x"]), id="binding"),
        pytest.param(lambda: model().bind(x=1) | {"k": bad()}, id="in a later step"),
        pytest.param(
            lambda: model().configurable_alternatives(ConfigurableField(id="llm"), other=bad()),
            id="alternative",
        ),
    ],
)
def test_sequences_anywhere_in_the_tree_are_checked(pipeline: Any) -> None:
    problems = check_pipeline(pipeline())
    assert kinds(problems) == ["prompt-variables"]
    assert "step 2 (ChatPromptTemplate)" in problems[0].message


def test_option_values_of_configurable_fields_are_checked() -> None:
    options = {"plain": chat_prompt(), "broken": bad()}
    field = ConfigurableFieldSingleOption(id="which", options=options, default="plain")
    holder = RunnableParallel(a=RunnablePassthrough()).configurable_fields(steps__=field)
    assert kinds(check_pipeline(holder)) == ["prompt-variables"]


def test_nested_sequence_flows_into_the_outer_one() -> None:
    inner = RunnableParallel(question=RunnablePassthrough()) | RunnablePassthrough.assign(
        role=RunnableLambda(identity)
    )
    outer = RunnableSequence(first=RunnableLambda(identity), middle=[inner], last=chat_prompt())
    assert len(outer.steps) == 3  # not flattened
    assert check_pipeline(outer) == []
    inner_without = RunnablePassthrough() | RunnablePassthrough.assign(x=RunnableLambda(identity))
    fan_out = RunnableParallel(question=RunnablePassthrough())
    outer = RunnableSequence(first=fan_out, middle=[inner_without], last=chat_prompt())
    [problem] = check_pipeline(outer)
    assert "missing prompt variable 'role'" in problem.message
    assert "outputs an object with 'question', 'x'" in problem.message


def test_a_hundred_steps_are_checked_pair_by_pair() -> None:
    steps: list[Any] = []
    for i in range(25):
        steps += [model(), StrOutputParser(), ChatPromptTemplate.from_template(f"{{q{i}}} {{r}}")]
        steps.append(RunnableParallel(q=RunnablePassthrough()))
    problems = check_pipeline(RunnableSequence(*steps))
    # every prompt is after a string (25) and every model after a dict (24: not the first)
    assert kinds(problems).count("prompt-variables") == 25
    assert kinds(problems).count("step-mismatch") == 24
    assert problems[0].message.startswith("step 2 (ChatPromptTemplate)")
    assert problems[-1].message.startswith("step 98 (ChatPromptTemplate)")


# -- configurable ids ----------------------------------------------------------------------
def test_one_configurable_id_declared_by_two_objects_is_reported_at_the_second() -> None:
    first = model().configurable_fields(responses=ConfigurableField(id="answers"))
    second = model().configurable_fields(responses=ConfigurableField(id="answers"))
    seq = RunnableSequence(chat_prompt(), first, StrOutputParser(), second)
    paths = {id(seq): (), id(first): ("steps", 1), id(second): ("steps", 3)}
    [problem] = check_pipeline(seq, paths)
    assert problem.kind == "configurable-id"
    assert problem.path == ("steps", 3)
    assert problem.message == (
        "configurable id 'answers' is declared twice: by field 'responses' of FakeChatModel at "
        "$.steps[1] and by field 'responses' of FakeChatModel at $.steps[3]"
    )
    assert "is_shared=True" in problem.hint


def test_shared_identical_declarations_are_fine_shared_different_ones_are_not() -> None:
    shared = ConfigurableField(id="answers", name="Answers", is_shared=True)
    a = model().configurable_fields(responses=shared)
    b = model().configurable_fields(responses=shared)
    assert check_pipeline(RunnableParallel(a=a, b=b)) == []
    c = model().configurable_fields(responses=shared._replace(name="Other"))
    [problem] = check_pipeline(RunnableParallel(a=a, c=c))
    assert "(both shared, but differently)" in problem.message
    d = model().configurable_fields(responses=shared._replace(is_shared=False))
    assert kinds(check_pipeline(RunnableParallel(a=a, d=d))) == ["configurable-id"]


def test_the_same_object_twice_declares_its_id_once() -> None:
    configured = model().configurable_fields(responses=ConfigurableField(id="answers"))
    assert check_pipeline(RunnableParallel(a=configured, b=configured)) == []


def test_alternatives_which_id_collides_with_a_field_id() -> None:
    fields = model().configurable_fields(responses=ConfigurableField(id="llm"))
    alternatives = model().configurable_alternatives(ConfigurableField(id="llm"), other=model())
    [problem] = check_pipeline(RunnableParallel(a=fields, b=alternatives))
    assert problem.kind == "configurable-id"
    assert "by the alternatives to FakeChatModel at $" in problem.message


def test_prefix_keys_give_each_alternative_its_own_ids() -> None:
    def alt(prefix_keys: bool) -> Any:
        one = model().configurable_fields(responses=ConfigurableField(id="answers"))
        two = model().configurable_fields(responses=ConfigurableField(id="answers"))
        return one.configurable_alternatives(
            ConfigurableField(id="llm"), prefix_keys=prefix_keys, other=two
        )

    assert check_pipeline(alt(prefix_keys=True)) == []
    [problem] = check_pipeline(alt(prefix_keys=False))
    assert "'answers'" in problem.message


# -- traversal and paths --------------------------------------------------------------------
class Holder(RunnableSerializable[Any, Any]):
    """A runnable with a written and an excluded runnable field."""

    shown: Runnable[Any, Any]
    hidden: Runnable[Any, Any] | None = Field(default=None, exclude=True)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self.shown.invoke(input, config)


def test_iter_nodes_walks_fields_once_and_skips_excluded_ones() -> None:
    shared = StrOutputParser()
    holder = Holder(shown=RunnableParallel(a=shared, b=shared), hidden=bad())
    objs = [node.obj for node in iter_nodes(holder)]
    assert objs[0] is holder
    assert [type(o).__name__ for o in objs] == ["Holder", "RunnableParallel", "StrOutputParser"]
    assert check_pipeline(holder) == []  # the excluded field is not checked


def test_iter_nodes_gives_the_nearest_recorded_path_and_scopes() -> None:
    inner = model()
    alt = inner.configurable_alternatives(
        ConfigurableField(id="llm"), prefix_keys=True, other=model()
    )
    seq = chat_prompt() | alt
    nodes = {id(n.obj): n for n in iter_nodes(seq, {id(alt): ("kwargs", "last")})}
    assert isinstance(nodes[id(seq)], Node)
    assert nodes[id(seq)].path == ()
    assert nodes[id(alt)].path == ("kwargs", "last")
    assert nodes[id(inner)].path == ("kwargs", "last")  # not recorded: its ancestor's
    assert nodes[id(inner)].scope == "llm==default/"
    assert nodes[id(alt.alternatives["other"])].scope == "llm==other/"


def test_paths_flow_through_from_a_loaded_wire_pipeline() -> None:
    def node(namespace: str, name: str, **kwargs: Any) -> dict[str, Any]:
        return {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", namespace, name],
            "kwargs": kwargs,
        }

    prompt = node("prompts", "PromptTemplate", template="{a} {b}", input_variables=["a", "b"])
    data = node(
        "runnables",
        "RunnableSequence",
        first=node("models", "FakeChatModel", responses=["hi"]),
        middle=[node("output_parsers", "StrOutputParser"), prompt],
        last=node("output_parsers", "StrOutputParser"),
    )
    loaded = runwire.load(data, allowed_objects="all")
    first, parser, template, last = loaded.steps
    paths = {
        id(loaded): (),
        id(first): ("kwargs", "first"),
        id(parser): ("kwargs", "middle", 0),
        id(template): ("kwargs", "middle", 1),
        id(last): ("kwargs", "last"),
    }
    problems = check_pipeline(loaded, paths)
    assert [(p.kind, p.path) for p in problems] == [
        ("prompt-variables", ("kwargs", "middle", 1)),
        ("step-mismatch", ("kwargs", "last")),
    ]
    assert "step 2 (PromptTemplate) is missing prompt variables 'a', 'b'" in problems[0].message
    # without its own path, a problem is reported at the sequence's
    del paths[id(template)]
    paths[id(loaded)] = ("root",)
    assert check_pipeline(loaded, paths)[0].path == ("root",)


def test_problem_is_a_frozen_value() -> None:
    problem = Problem("step-mismatch", "m", ("steps", 1))
    assert problem.hint == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.kind = "other"  # type: ignore[misc]


def test_a_binding_base_is_looked_through_like_a_binding() -> None:
    from runwire.runtime.binding import RunnableBindingBase

    [problem] = check_pipeline(model() | RunnableBindingBase(bound=chat_prompt()))
    assert problem.kind == "prompt-variables"
    assert "step 0 (FakeChatModel) outputs an AIMessage" in problem.message
