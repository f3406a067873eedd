"""``with_structured_output``: the serializable ``RunnableWithStructuredOutput`` - methods,
``include_raw``, streaming, wire form and round trip, Bedrock through the emulator, and the
same outputs as LangChain's ``with_structured_output`` for the same model replies."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

import runwire
from runwire.errors import ManifestError
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.models.structured import RunnableWithStructuredOutput
from runwire.runtime.parsers import OutputParserException
from runwire.schema.messages import AIMessage, BaseMessage


class Person(BaseModel):
    """Someone in the text."""

    name: str
    age: int


class PersonDict(TypedDict):
    """Someone in the text."""

    name: str
    age: int


PERSON_SCHEMA: dict[str, Any] = {
    "title": "person",
    "type": "object",
    "properties": {"name": {"type": "string", "pattern": "^[A-Z]"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
TEXT = 'Ann is 31: {"name": "Ann", "age": 31}'
ANN = {"name": "Ann", "age": 31}


def round_trip(obj: Any) -> Any:
    return runwire.loads(runwire.dumps(obj), allowed_objects="all")


class Plain(BaseChatModel):
    """A chat model without tool calling."""

    def _generate(self, messages: list[BaseMessage], stop: Any = None, **kwargs: Any) -> AIMessage:
        return AIMessage("plain")


# -- function calling --------------------------------------------------------------------
def test_pydantic_schema_gives_instances() -> None:
    structured = FakeChatModel().with_structured_output(Person)
    assert isinstance(structured, RunnableWithStructuredOutput)
    assert structured.invoke(TEXT) == Person(name="Ann", age=31)
    assert asyncio.run(structured.ainvoke(TEXT)) == Person(name="Ann", age=31)
    assert structured.batch([TEXT, TEXT]) == [Person(name="Ann", age=31)] * 2
    assert list(structured.stream(TEXT)) == [Person(name="Ann", age=31)]

    async def astreamed() -> list[Any]:
        return [out async for out in structured.astream(TEXT)]

    assert asyncio.run(astreamed()) == [Person(name="Ann", age=31)]
    assert asyncio.run(structured.abatch([TEXT])) == [Person(name="Ann", age=31)]
    with pytest.raises(ValidationError):
        structured.invoke('{"name": "Ann"}')
    assert structured.OutputType is Person


def test_dict_schemas_give_dicts() -> None:
    assert FakeChatModel().with_structured_output(PersonDict).invoke(TEXT) == ANN
    assert FakeChatModel().with_structured_output(PERSON_SCHEMA).invoke(TEXT) == ANN
    # a plain JSON Schema is not checked (as in LangChain) unless check_schema is set
    lower = '{"name": "ann", "age": 3}'
    assert FakeChatModel().with_structured_output(PERSON_SCHEMA).invoke(lower) == {
        "name": "ann",
        "age": 3,
    }
    checked = RunnableWithStructuredOutput(
        model=FakeChatModel(), json_schema=PERSON_SCHEMA, check_schema=True
    )
    with pytest.raises(OutputParserException, match="does not match"):
        checked.invoke(lower)
    tool = {"type": "function", "function": {"name": "answer", "parameters": {}}}
    assert FakeChatModel().with_structured_output(tool).invoke("{}") == {}


def test_the_tool_is_forced_and_bound() -> None:
    structured = FakeChatModel().with_structured_output(Person)
    bound = structured._chain.first
    assert bound.tool_choice == "any"
    assert [t["name"] for t in bound.tools] == ["Person"]
    # the model answers through the tool even when the prompt does not name it
    assert structured.invoke('{"name": "Bo", "age": 2}') == Person(name="Bo", age=2)


def test_include_raw() -> None:
    structured = FakeChatModel().with_structured_output(Person, include_raw=True)
    out = structured.invoke(TEXT)
    assert list(out) == ["raw", "parsed", "parsing_error"]
    assert isinstance(out["raw"], AIMessage) and out["raw"].tool_calls[0]["args"] == ANN
    assert out["parsed"] == Person(name="Ann", age=31) and out["parsing_error"] is None
    bad = structured.invoke('{"name": "Ann", "age": "old"}')
    assert bad["parsed"] is None and isinstance(bad["parsing_error"], ValidationError)
    [streamed] = list(structured.stream(TEXT))  # one complete dict at the end
    assert streamed["parsed"] == Person(name="Ann", age=31)
    assert structured.OutputType == dict[str, Any]


def test_streams_partial_dicts() -> None:
    structured = FakeChatModel().with_structured_output(PERSON_SCHEMA)
    assert list(structured.stream(TEXT)) == [ANN]  # the fake streams a call in one chunk
    parts = ['{"na', 'me": "An', 'n", "ag', 'e": 31}']
    chunks = [
        {"name": None if i else "person", "args": p, "id": None if i else "1", "index": 0}
        for i, p in enumerate(parts)
    ]
    from runwire.schema.messages import AIMessageChunk

    parser = structured._chain.last
    outs = list(parser.transform(iter(AIMessageChunk("", tool_call_chunks=[c]) for c in chunks)))
    assert outs == [{}, {"name": "An"}, {"name": "Ann"}, ANN]


# -- json_mode / json_schema -------------------------------------------------------------
@pytest.mark.parametrize("method", ["json_mode", "json_schema"])
def test_json_methods(method: Any) -> None:
    structured = FakeChatModel().with_structured_output(Person, method=method)
    assert structured.invoke(TEXT) == Person(name="Ann", age=31)
    assert structured.method == method
    answered = FakeChatModel(responses=['```json\n{"name": "Cy", "age": 4}\n```'])
    dicts = answered.with_structured_output(PERSON_SCHEMA, method=method)
    assert dicts.invoke("x") == {"name": "Cy", "age": 4}
    kwargs = structured._chain.first.kwargs["response_format"]
    assert kwargs["type"] == ("json_object" if method == "json_mode" else "json_schema")
    loaded = round_trip(structured)
    assert loaded.method == method and loaded.invoke(TEXT) == ANN
    raw = FakeChatModel(responses=["not json"]).with_structured_output(
        Person, method=method, include_raw=True
    )
    out = raw.invoke("x")
    assert out["parsed"] is None and isinstance(out["parsing_error"], OutputParserException)


def test_json_mode_without_a_schema() -> None:
    structured = FakeChatModel().with_structured_output(method="json_mode")
    assert round_trip(structured) == structured
    assert structured.invoke('{"any": [1, 2]}') == {"any": [1, 2]}
    with pytest.raises(ValueError, match="needs a schema"):
        FakeChatModel().with_structured_output(method="function_calling")


def test_unsupported_methods_and_models() -> None:
    with pytest.raises(NotImplementedError, match="needs tool calling"):
        Plain().with_structured_output(Person)
    with pytest.raises(NotImplementedError, match="method='json_mode'"):
        Plain().with_structured_output(Person, method="json_mode")
    with pytest.raises(ValueError, match="unsupported arguments"):
        FakeChatModel().with_structured_output(Person, colour="red")
    with pytest.raises(ValueError, match="title"):
        RunnableWithStructuredOutput(model=FakeChatModel(), json_schema={"type": "object"})
    with pytest.raises(ValueError, match="must be a chat model"):
        RunnableWithStructuredOutput(model="gpt", json_schema=PERSON_SCHEMA)


def test_tool_choice_follows_the_choices_a_model_supports() -> None:
    class Choosy(FakeChatModel):
        supported: tuple[str, ...] = ("auto", "any", "tool")

        def tool_choice_values(self) -> tuple[str, ...]:
            return self.supported

    assert Choosy()._structured_tool_choice("Person") == "Person"
    assert Choosy(supported=("auto", "any"))._structured_tool_choice("Person") == "any"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        structured = Choosy(supported=("auto",)).with_structured_output(Person)
    assert "does not support forced tool use" in str(caught[0].message)
    assert structured._chain.first.tool_choice is None


# -- the wire form -----------------------------------------------------------------------
def test_wire_form_holds_the_json_schema_never_the_class() -> None:
    structured = FakeChatModel(responses=["x"]).with_structured_output(Person, include_raw=True)
    node = runwire.dumpd(structured)
    assert node == {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "models", "RunnableWithStructuredOutput"],
        "kwargs": {
            "model": {
                "lc": 1,
                "type": "constructor",
                "id": ["runwire", "models", "FakeChatModel"],
                "kwargs": {"responses": ["x"]},
                "name": "FakeChatModel",
            },
            "json_schema": Person.model_json_schema(),
            "method": "function_calling",  # LangChain's rule: truthy values are written
            "include_raw": True,
            "check_schema": True,
        },
        "name": "RunnableWithStructuredOutput",
    }
    assert "Person" not in json.dumps(node["kwargs"]["model"])


def test_loaded_copy_runs_and_checks_the_schema() -> None:
    structured = FakeChatModel().with_structured_output(Person)
    loaded = round_trip(structured)
    assert loaded.pydantic_schema is None and loaded.check_schema
    assert loaded.invoke(TEXT) == ANN
    with pytest.raises(OutputParserException, match="'age' is a required property"):
        loaded.invoke('{"name": "Ann"}')
    assert runwire.dumps(loaded) == runwire.dumps(structured)
    plain = FakeChatModel().with_structured_output(PERSON_SCHEMA, include_raw=True)
    back = round_trip(plain)
    assert back == plain and back.invoke(TEXT)["parsed"] == ANN


def test_authored_in_yaml(tmp_path: Any) -> None:
    path = tmp_path / "structured.yaml"
    path.write_text("""
_type: RunnableWithStructuredOutput
model: {_type: FakeChatModel}
json_schema:
  title: person
  type: object
  properties: {name: {type: string}, age: {type: integer}}
  required: [name, age]
include_raw: true
""")
    structured = runwire.load_file(path)
    assert structured.invoke(TEXT)["parsed"] == ANN


def test_a_schema_with_an_outside_ref_is_refused_when_loaded() -> None:
    node = runwire.dumpd(FakeChatModel().with_structured_output(PERSON_SCHEMA))
    node["kwargs"]["json_schema"]["properties"]["name"] = {"$ref": "file:///etc/passwd"}
    node["kwargs"]["check_schema"] = True
    with pytest.raises(ManifestError, match="ref"):
        runwire.load(node, allowed_objects="all")


def test_the_schema_is_data_never_objects() -> None:
    from runwire.errors import NotAllowedError

    node = runwire.dumpd(FakeChatModel().with_structured_output(PERSON_SCHEMA))
    fake = {"lc": 1, "type": "constructor", "id": ["runwire", "models", "FakeChatModel"]}
    node["kwargs"]["json_schema"]["properties"]["age"] = {**fake, "kwargs": {}}
    with pytest.raises(NotAllowedError, match="holds user data"):
        runwire.load(node, allowed_objects="all")
    lc_key = {**PERSON_SCHEMA, "properties": {"lc": {"type": "integer"}}}  # a property "lc"
    structured = FakeChatModel().with_structured_output(lc_key)
    assert round_trip(structured) == structured
    assert round_trip(structured).invoke('{"lc": 1}') == {"lc": 1}


def test_in_a_sequence_from_a_file() -> None:
    from runwire.runtime.prompts import ChatPromptTemplate

    chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | (
        FakeChatModel().with_structured_output(PERSON_SCHEMA)
    )
    assert round_trip(chain).invoke({"q": TEXT}) == ANN


# -- Bedrock through the emulator ---------------------------------------------------------
# Keys are passed explicitly, not through the environment (``aws_env``): the first dump of a
# class fixes its field defaults, and an environment-derived key default would then make
# later dumps of key-less samples write secret nodes.
def _bedrock_keys() -> dict[str, Any]:
    from pydantic import SecretStr

    from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET

    return {
        "region_name": "us-east-1",
        "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
        "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
    }


def _loaded(structured: Any) -> Any:
    from conftest import SAMPLE_SECRETS

    text = runwire.dumps(structured)
    return runwire.loads(text, allowed_objects="all", trusted=True, secrets_map=SAMPLE_SECRETS)


def test_bedrock_invoke_api_structured_output_round_trips(bedrock: Any) -> None:
    from runwire.providers.aws import ChatBedrock

    model = ChatBedrock(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        endpoint_url=bedrock.endpoint_url,
        beta_use_converse_api=False,
        **_bedrock_keys(),
    )
    structured = model.with_structured_output(Person, include_raw=True)
    assert structured.invoke(TEXT)["parsed"] == Person(name="Ann", age=31)
    out = _loaded(structured).invoke(TEXT)
    assert out["parsed"] == ANN and out["parsing_error"] is None
    body = bedrock.requests[-1].body
    # forced: "any" today; langchain-aws names the tool (a provider override may follow)
    assert body["tool_choice"] in ({"type": "any"}, {"type": "tool", "name": "Person"})
    assert [t["name"] for t in body["tools"]] == ["Person"]


def test_bedrock_converse_structured_output_round_trips(bedrock: Any) -> None:
    from runwire.providers.aws import ChatBedrockConverse

    model = ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        endpoint_url=bedrock.endpoint_url,
        **_bedrock_keys(),
    )
    structured = model.with_structured_output(PERSON_SCHEMA)
    assert structured.invoke(TEXT) == ANN
    loaded = _loaded(structured)
    assert loaded.invoke(TEXT) == ANN
    assert list(loaded.stream(TEXT))[-1] == ANN
    choice = bedrock.requests[-1].body["toolConfig"]["toolChoice"]
    assert choice == {"tool": {"name": "person"}}


# -- parity with LangChain ---------------------------------------------------------------
def _lc_model(args: dict[str, Any] | str) -> Any:
    """A LangChain chat model that calls the tool ``Person``/``person`` with ``args``."""
    from langchain_core.language_models import BaseChatModel as LcChatModel
    from langchain_core.messages import AIMessage as LcAIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    class Calls(LcChatModel):
        name_: str = "Person"

        @property
        def _llm_type(self) -> str:
            return "calls"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            from langchain_core.utils.function_calling import convert_to_openai_tool

            return self.model_copy(
                update={"name_": convert_to_openai_tool(tools[0])["function"]["name"]}
            )

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> Any:
            call = {"name": self.name_, "args": args, "id": "1"}
            message = LcAIMessage(content="", tool_calls=[call])
            return ChatResult(generations=[ChatGeneration(message=message)])

    return Calls()


@pytest.mark.parametrize(
    "schema", [Person, PersonDict, PERSON_SCHEMA], ids=["pydantic", "typeddict", "json"]
)
@pytest.mark.parametrize(
    "args", [ANN, {"name": "Ann"}, {"name": "ann", "age": 3}], ids=["ok", "missing", "lower"]
)
@pytest.mark.parametrize("include_raw", [False, True])
def test_same_outputs_as_langchain(schema: Any, args: dict[str, Any], include_raw: bool) -> None:
    pytest.importorskip("langchain_core")

    def outcome(runnable: Any, prompt: str) -> Any:
        try:
            out = runnable.invoke(prompt)
        except Exception as exc:
            return ("error", type(exc).__name__)
        if include_raw:
            error = out["parsing_error"]
            return (out["parsed"], None if error is None else type(error).__name__, sorted(out))
        return out

    theirs = outcome(_lc_model(args).with_structured_output(schema, include_raw=include_raw), "x")
    ours = outcome(
        FakeChatModel().with_structured_output(schema, include_raw=include_raw), json.dumps(args)
    )
    assert ours == theirs


def test_langchain_cannot_keep_structured_output_in_a_file() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.load import dumpd

    node = dumpd(_lc_model(ANN).with_structured_output(Person))
    assert "not_implemented" in json.dumps(node)


# -- langchain-aws's repair of stringified arguments --------------------------------------
class Basket(BaseModel):
    items: list[str]
    meta: dict[str, int]
    note: str


class RepairingFake(FakeChatModel):
    """A fake standing in for a Bedrock model: structured output repairs arguments."""

    structured_output_repairs_args = True


STRINGIFIED = {"items": '{"items": ["a", "b"]}', "meta": '{"x": 1}', "note": '["kept"]'}
REPAIRED = {"items": ["a", "b"], "meta": {"x": 1}, "note": '["kept"]'}


def test_bedrock_models_repair_stringified_arguments() -> None:
    from runwire.providers.aws import ChatBedrock, ChatBedrockConverse

    assert ChatBedrock.structured_output_repairs_args
    assert ChatBedrockConverse.structured_output_repairs_args
    assert not FakeChatModel.structured_output_repairs_args
    text = json.dumps(STRINGIFIED)
    assert RepairingFake().with_structured_output(Basket).invoke(text) == Basket(**REPAIRED)
    schema = {"title": "Basket", **Basket.model_json_schema()}
    dicts = RepairingFake().with_structured_output(schema, include_raw=True).invoke(text)
    assert dicts["parsed"] == REPAIRED
    assert dicts["raw"].tool_calls[0]["args"] == STRINGIFIED  # the raw reply is untouched
    assert FakeChatModel().with_structured_output(schema).invoke(text) == STRINGIFIED
    with pytest.raises(ValidationError):
        FakeChatModel().with_structured_output(Basket).invoke(text)


@pytest.mark.parametrize("schema", [Basket, "json"])
def test_repair_matches_langchain_aws(schema: Any) -> None:
    pytest.importorskip("langchain_aws")
    from langchain_aws.function_calling import (
        _RepairingJsonOutputKeyToolsParser,
        _RepairingPydanticToolsParser,
    )
    from langchain_core.messages import AIMessage as LcAIMessage

    properties = Basket.model_json_schema()["properties"]
    if schema == "json":
        schema = {"title": "Basket", **Basket.model_json_schema()}
        theirs = _RepairingJsonOutputKeyToolsParser(
            key_name="Basket", first_tool_only=True, schema_properties=properties
        )
    else:
        theirs = _RepairingPydanticToolsParser(
            tools=[Basket], first_tool_only=True, schema_properties=properties
        )
    call = {"name": "Basket", "args": STRINGIFIED, "id": "1"}
    expected = theirs.invoke(LcAIMessage(content="", tool_calls=[call]))
    assert (
        RepairingFake().with_structured_output(schema).invoke(json.dumps(STRINGIFIED)) == expected
    )
