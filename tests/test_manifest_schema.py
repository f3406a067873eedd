"""The manifest JSON Schema: valid, deterministic, complete, and with errors in the right place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import orjson
import pytest
from pydantic import BaseModel, Field, SecretStr

import runwire
import runwire.schema.manifest_schema as manifest_module
from conftest import SAMPLES, TEST_NS
from runwire.loader.registry import class_for
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.prompts import ChatPromptTemplate
from runwire.schema.ids import IdTable, id_table
from runwire.schema.manifest_schema import kwargs_schema, manifest_schema
from runwire.schema.serializable import Serializable

HELPERS: dict[str, dict[str, Any]] = {
    "sequence": {
        "type": "object",
        "properties": {
            "steps": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/Node"}},
            "name": {"type": "string"},
        },
        "required": ["steps"],
    }
}

PROMPT = {
    "_type": "ChatPromptTemplate",
    "messages": [["system", "You are {role}."], ["human", "{question}"]],
}
MODEL = {"_type": "FakeChatModel", "responses": ["Paris."]}
PARSER = {"_type": "StrOutputParser"}


def _errors(doc: Any, helpers: dict[str, Any] | None = None) -> list[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(manifest_schema(helpers))
    return sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))


def _where(errors: list[jsonschema.ValidationError]) -> list[tuple[list[Any], str]]:
    return [(list(e.absolute_path), str(e.validator)) for e in errors]


def _wire_sequence(first: Any, middle: list[Any], last: Any) -> dict[str, Any]:
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "runnables", "RunnableSequence"],
        "kwargs": {"first": first, "middle": middle, "last": last},
        "name": "qa",
    }


class SchemaProbe(Serializable):
    """A test class with secrets (one aliased), a float and a plain string."""

    api_key: SecretStr = Field(alias="openai_api_key")
    token: SecretStr | None = None
    temperature: float = 0.7
    model: str = "probe-1"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return [TEST_NS]


class _Auth(BaseModel):
    token: str
    user: str = "me"


class _Opaque:
    """An arbitrary type (neither a runnable nor serializable)."""


class SchemaTree(Serializable):
    """Self-referencing, with a callable, an opaque value and a dotted nested secret."""

    lc_secret_ids: ClassVar[dict[str, str]] = {"auth.token": "TREE_TOKEN"}
    children: list[SchemaTree] = Field(default_factory=list)
    auth: _Auth | None = None
    hook: Callable[[int], int] | None = None
    opaque: _Opaque | None = None


SchemaTree.model_rebuild()


@pytest.fixture
def probe_registered(id_table_snapshot: IdTable) -> IdTable:
    """SchemaProbe registered for one test; the id table is restored afterwards."""
    runwire.register(SchemaProbe)
    return id_table_snapshot


# -- the document as a whole --------------------------------------------------------------


@pytest.mark.parametrize("helpers", [None, HELPERS])
def test_schema_is_valid_under_the_2020_12_metaschema(helpers: Any) -> None:
    schema = manifest_schema(helpers)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_local_ref_resolves() -> None:
    schema = manifest_schema(HELPERS)
    refs = manifest_module._local_refs(schema)
    assert {"Node", "AuthoringNode", "WireNode"} <= refs  # Secret: no built-in secrets yet
    assert refs - set(schema["$defs"]) == set()


def test_schema_is_deterministic_even_when_regenerated(monkeypatch: pytest.MonkeyPatch) -> None:
    first = orjson.dumps(manifest_schema(HELPERS), option=orjson.OPT_SORT_KEYS)
    assert orjson.dumps(manifest_schema(HELPERS), option=orjson.OPT_SORT_KEYS) == first
    monkeypatch.setattr(manifest_module, "_MANIFEST_CACHE", {})
    monkeypatch.setattr(manifest_module, "_KWARGS_CACHE", {})
    assert orjson.dumps(manifest_schema(HELPERS), option=orjson.OPT_SORT_KEYS) == first


def test_each_call_returns_a_fresh_copy() -> None:
    schema = manifest_schema()
    schema["$defs"].clear()
    kwargs = kwargs_schema(FakeChatModel)
    kwargs["properties"].clear()
    assert manifest_schema()["$defs"] and kwargs_schema(FakeChatModel)["properties"]


def test_every_registered_class_is_in_the_schema() -> None:
    schema = manifest_schema()
    names = set(schema["$defs"]["AuthoringNode"]["properties"]["_type"]["enum"])
    for entry in id_table.entries:
        assert ".".join(entry.id) in schema["$defs"]
        assert {entry.name, ".".join(entry.id)} <= names
        assert {".".join(ident) for ident in entry.langchain} <= names


@pytest.mark.parametrize("entry", id_table.entries, ids=lambda e: e.name)
def test_kwargs_schema_generates_for_every_registered_class(entry: Any) -> None:
    cls = class_for(entry)
    schema = kwargs_schema(cls)
    assert schema["type"] == "object" and isinstance(schema["properties"], dict)
    jsonschema.Draft202012Validator.check_schema(schema)
    for name in ("additionalProperties", "unevaluatedProperties"):
        assert schema.get(name, True) is True  # never closed here: callers close it
    for field in cls.model_fields:
        excluded = bool(cls.model_fields[field].exclude)
        assert (field in schema["properties"]) is not excluded, field


# -- valid documents ------------------------------------------------------------------------


def test_authoring_nodes_inside_a_wire_sequence_validate() -> None:
    assert _errors(_wire_sequence(PROMPT, [MODEL], PARSER)) == []


def test_wire_form_of_a_real_chain_validates() -> None:
    chain = (
        ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{q}")])
        | FakeChatModel(responses=["Paris."])
        | StrOutputParser()
    )
    for dialect in ("runwire", "langchain"):
        doc = runwire.dumpd(chain, dialect=dialect)
        assert _errors(doc) == [] and _errors([doc, PARSER]) == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("dialect", ["runwire", "langchain"])
def test_wire_form_of_every_sample_validates(name: str, dialect: str) -> None:
    doc = runwire.dumpd(SAMPLES[name](), dialect=dialect)
    assert _where(_errors(doc)) == []


def test_type_accepts_dotted_runwire_and_langchain_ids() -> None:
    for type_name in (
        "runwire.output_parsers.StrOutputParser",
        "langchain_core.output_parsers.string.StrOutputParser",
    ):
        assert _errors({"_type": type_name, "name": "parse"}) == []


def test_inferred_prompt_variables_are_not_required() -> None:
    assert _errors({"_type": "PromptTemplate", "template": "Tell me about {topic}"}) == []
    assert _where(_errors({"_type": "PromptTemplate"})) == [([], "required")]


def test_helpers_validate_and_report_their_own_constraints() -> None:
    good = {"_type": "sequence", "steps": [PROMPT, MODEL, PARSER], "name": "qa"}
    assert _errors(good, HELPERS) == []
    short = {"_type": "sequence", "steps": [PARSER]}
    assert _where(_errors(short, HELPERS)) == [(["steps"], "minItems")]
    misspelt = {"_type": "sequence", "stpes": [PARSER, PARSER]}
    assert ([], "unevaluatedProperties") in _where(_errors(misspelt, HELPERS))
    assert _where(_errors(good)) == [(["_type"], "enum")]  # no helpers given


# -- errors land inside the matching class --------------------------------------------------


def test_unknown_type_is_reported_at_type() -> None:
    doc = _wire_sequence(PROMPT, [{"_type": "FakeChatModle"}], PARSER)
    errors = _errors(doc)
    assert _where(errors) == [(["kwargs", "middle", 0, "_type"], "enum")]
    assert "FakeChatModel" in errors[0].validator_value


def test_misspelt_kwarg_is_reported_on_its_node_naming_the_key() -> None:
    doc = _wire_sequence(PROMPT, [{**MODEL, "respones": ["x"]}], PARSER)
    errors = _errors(doc)
    assert _where(errors) == [(["kwargs", "middle", 0], "unevaluatedProperties")]
    assert "'respones'" in errors[0].message


def test_misspelt_kwarg_of_a_wire_node_is_reported_on_its_kwargs() -> None:
    wire = runwire.dumpd(FakeChatModel(responses=["a"]))
    wire["kwargs"]["chunk_sise"] = 2
    errors = _errors({"_type": "sequence", "steps": [PROMPT, wire]}, HELPERS)
    assert _where(errors) == [(["steps", 1, "kwargs"], "unevaluatedProperties")]
    assert "'chunk_sise'" in errors[0].message


@pytest.mark.parametrize(
    ("node", "key", "keyword"),
    [
        ({**MODEL, "chunk_size": "hot"}, "chunk_size", "type"),
        ({"_type": "PromptTemplate", "template": "{x}", "template_format": "jinja"}, None, "enum"),
        ({"_type": "FakeEmbeddings", "size": 1.5}, "size", "type"),
    ],
)
def test_wrong_value_type_is_reported_at_the_field(
    node: dict[str, Any], key: str | None, keyword: str
) -> None:
    field = key or "template_format"
    errors = _errors({"_type": "sequence", "steps": [PARSER, node]}, HELPERS)
    assert _where(errors) == [(["steps", 1, field], keyword)]


def test_wire_secret_node_is_not_a_component() -> None:
    doc = _wire_sequence(PROMPT, [], {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]})
    assert _where(_errors(doc)) == [(["kwargs", "last", "type"], "enum")]


def test_an_object_that_is_no_node_says_type_is_missing() -> None:
    assert _where(_errors({"steps": []})) == [([], "required")]


# -- a user-registered class: secrets, aliases, versioned cache -----------------------------


def test_registered_class_appears_in_the_schema(id_table_snapshot: IdTable) -> None:
    before = manifest_schema()
    assert "SchemaProbe" not in before["$defs"]["AuthoringNode"]["properties"]["_type"]["enum"]
    runwire.register(SchemaProbe)
    after = manifest_schema()
    assert "SchemaProbe" in after["$defs"]["AuthoringNode"]["properties"]["_type"]["enum"]
    assert f"{TEST_NS}.SchemaProbe" in after["$defs"]


@pytest.mark.parametrize(
    "secret",
    [{"_secret": "OPENAI_API_KEY"}, {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}],
)
def test_secret_nodes_are_accepted_in_secret_fields(
    probe_registered: IdTable, secret: dict[str, Any]
) -> None:
    assert _errors({"_type": "SchemaProbe", "api_key": secret, "token": secret}) == []
    assert _errors({"_type": "SchemaProbe", "api_key": secret, "token": None}) == []


def test_alias_is_accepted_in_place_of_the_name(probe_registered: IdTable) -> None:
    doc = {"_type": "SchemaProbe", "openai_api_key": {"_secret": "K"}, "temperature": 0.1}
    assert _errors(doc) == []
    wire = {"lc": 1, "type": "constructor", "id": [TEST_NS, "SchemaProbe"], "kwargs": doc}
    wire["kwargs"] = {k: v for k, v in doc.items() if k != "_type"}
    assert _errors(wire) == []


def test_required_aliased_field_missing_is_an_error(probe_registered: IdTable) -> None:
    assert _where(_errors({"_type": "SchemaProbe", "model": "m"})) == [([], "anyOf")]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"api_key": "sk-plain-text"}, ["api_key"]),
        ({"openai_api_key": "sk-plain-text"}, ["openai_api_key"]),
        ({"api_key": {"_secret": "K"}, "token": "plain"}, ["token"]),
        ({"api_key": {"_secret": ""}}, ["api_key", "_secret"]),
        ({"api_key": {"lc": 1, "type": "secret", "id": ["A", "B"]}}, ["api_key", "id"]),
        ({"api_key": {"_secret": "K"}, "model": {"_secret": "K"}}, ["model"]),
        ({"api_key": {"_secret": "K"}, "temperature": "hot"}, ["temperature"]),
    ],
)
def test_registered_class_errors_point_at_the_field(
    probe_registered: IdTable, kwargs: dict[str, Any], path: list[str]
) -> None:
    errors = _errors({"_type": "SchemaProbe", **kwargs})
    assert [list(e.absolute_path) for e in errors] == [path]
    wire = {"lc": 1, "type": "constructor", "id": [TEST_NS, "SchemaProbe"], "kwargs": kwargs}
    assert [list(e.absolute_path) for e in _errors(wire)] == [["kwargs", *path]]


# -- kwargs_schema details ------------------------------------------------------------------


def test_kwargs_schema_of_a_class_with_extra_allowed_stays_open() -> None:
    assert kwargs_schema(runwire.AIMessage)["additionalProperties"] is True
    assert _errors({"_type": "AIMessage", "content": "hi", "custom": 1}) == []


def test_kwargs_schema_maps_nodes_callables_and_nested_models() -> None:
    schema = kwargs_schema(SchemaTree)
    props = schema["properties"]
    assert props["children"]["items"] == {"$ref": "#/$defs/Node"}  # self-reference
    assert {"type": "null"} in props["hook"]["anyOf"] and {} in props["hook"]["anyOf"]
    assert {} in props["opaque"]["anyOf"]
    auth = next(b for b in props["auth"]["anyOf"] if b.get("type") == "object")
    assert auth["properties"]["token"]["$ref"] == "#/$defs/Secret"  # dotted secret
    assert auth["properties"]["user"]["type"] == "string"
    assert schema.get("$defs", {}) == {}  # the patched nested model is inlined, not kept
    for name in kwargs_schema(runwire.AIMessage)["$defs"]:
        assert name.startswith("runwire.messages.AIMessage:")


class SchemaBroken(Serializable):
    """A class whose annotation never resolves: it cannot build, so it gets an open schema."""

    value: UndefinedType  # type: ignore[name-defined]  # noqa: F821


def test_kwargs_schema_of_a_class_that_cannot_build_is_open_not_an_exception() -> None:
    schema = kwargs_schema(SchemaBroken)
    assert schema["additionalProperties"] is True and schema["properties"] == {}
    assert "UndefinedType" in schema["description"]


def test_hoisted_nested_definitions_validate_nested_values() -> None:
    call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}
    assert _errors({"_type": "AIMessage", "content": "", "tool_calls": [call]}) == []
    bad = {"_type": "AIMessage", "content": "", "tool_calls": [{**call, "args": "x"}]}
    assert _where(_errors(bad)) == [(["tool_calls", 0, "args"], "type")]


# -- the published schema, read as an editor reads the file (issue 17, item 3) -------------

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = ROOT / "docs" / "manifest.schema.json"
NOT_MANIFESTS = {"inputs": "inputs for `runwire run`", "overlays": "merged over a base file"}
"""Folders of configs/ whose files are not manifests on their own, and why."""


def editor_yaml() -> Any:
    """A YAML reader as an editor configured with the documented customTags reads: each
    tag runwire reads becomes its scalar (``!secret NAME`` is the string ``NAME``)."""
    from ruamel.yaml import YAML

    from runwire.loader.source import YAML_TAGS

    reader = YAML(typ="safe", pure=True)
    for tag in YAML_TAGS:
        reader.constructor.add_constructor(tag, lambda loader, node: loader.construct_scalar(node))
    return reader


def as_editor_reads(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return orjson.loads(text) if path.suffix == ".json" else editor_yaml().load(text)


def config_manifests() -> list[Path]:
    found = sorted(p for p in (ROOT / "configs").rglob("*") if p.is_file())
    folders = {
        p.relative_to(ROOT / "configs").parts[0] for p in found if p.parent.name != "configs"
    }
    assert folders - {"fragments", *NOT_MANIFESTS} == set(), "a new configs/ folder: classify it"
    return [p for p in found if p.relative_to(ROOT / "configs").parts[0] not in NOT_MANIFESTS]


def docs_manifests() -> list[tuple[str, str]]:
    """(doc:index, YAML text) of every YAML block in README.md and docs/ that is a whole
    manifest (a mapping with _type or lc; fragments, overlays, deployments are not)."""
    import re

    blocks = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for index, block in enumerate(re.findall(r"```ya?ml\n(.*?)```", text, flags=re.S)):
            data = editor_yaml().load(block)
            if isinstance(data, dict) and ("_type" in data or "lc" in data):
                blocks.append((f"{doc.name}:{index}", block))
    return blocks


def _problems(validator: jsonschema.Draft202012Validator, doc: Any) -> list[tuple[Any, str]]:
    return [(list(e.absolute_path), e.message[:200]) for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def published() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(orjson.loads(PUBLISHED.read_bytes()))


@pytest.mark.parametrize("path", config_manifests(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_config_validates_against_the_published_schema_as_an_editor_reads_it(
    published: jsonschema.Draft202012Validator, path: Path
) -> None:
    errors = [
        (list(e.absolute_path), e.message[:200])
        for e in published.iter_errors(as_editor_reads(path))
    ]
    assert errors == []


def test_the_configs_cover_includes_secrets_and_variables() -> None:
    texts = "".join(p.read_text(encoding="utf-8") for p in config_manifests())
    for feature in ("!include ", "_include:", "${"):
        assert feature in texts, feature


@pytest.mark.parametrize(("where", "text"), docs_manifests(), ids=lambda v: v if ":" in v else "")
def test_every_docs_manifest_validates_against_the_published_schema(
    published: jsonschema.Draft202012Validator, where: str, text: str
) -> None:
    errors = [
        (list(e.absolute_path), e.message[:200])
        for e in published.iter_errors(editor_yaml().load(text))
    ]
    assert errors == [], where


EDITOR_DOC = """\
_type: sequence
steps:
  - !include fragments/prompt.yaml
  - _include: fragments/model.yaml
    temperature: 0.5
  - _type: ChatBedrockConverse
    model: "${BEDROCK_MODEL:-anthropic.claude-3-haiku-20240307-v1:0}"
    temperature: "${S:-0.1}"
    max_tokens: "${MAX_TOKENS}"
    aws_access_key_id: !secret PROD_AWS_KEY_ID
    aws_secret_access_key: {_secret: PROD_AWS_SECRET}
    stop: ["${STOP_WORD:-END}"]
  - _type: StrOutputParser
"""


def test_the_published_schema_takes_what_an_editor_sees_of_documented_features(
    published: jsonschema.Draft202012Validator,
) -> None:
    assert list(published.iter_errors(editor_yaml().load(EDITOR_DOC))) == []


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("temperature", "hot", ["steps", 2, "temperature"]),
        ("max_tokens", "${MAX TOKENS}", ["steps", 2, "max_tokens"]),  # not a placeholder
        ("temprature", 0.1, ["steps", 2]),
        ("aws_secret_access_key", 5, ["steps", 2, "aws_secret_access_key"]),
    ],
)
def test_the_published_schema_still_reports_wrong_direct_values_at_the_field(
    published: jsonschema.Draft202012Validator, key: str, value: Any, path: list[Any]
) -> None:
    doc = editor_yaml().load(EDITOR_DOC)
    doc["steps"][2][key] = value
    errors = list(published.iter_errors(doc))
    assert [list(e.absolute_path) for e in errors] == [path]
    assert repr(value if key != "temprature" else key) in errors[0].message


def test_a_step_that_is_neither_a_node_nor_an_include_is_refused(
    published: jsonschema.Draft202012Validator,
) -> None:
    doc = editor_yaml().load(EDITOR_DOC)
    doc["steps"][0] = "not a fragment"
    assert [list(e.absolute_path) for e in published.iter_errors(doc)] == [["steps", 0]]


def test_validate_keeps_the_strict_schema_a_literal_secret_is_refused(tmp_path: Path) -> None:
    from runwire.loader.validate import validate_manifest

    (tmp_path / "pyproject.toml").write_text("")
    path = tmp_path / "m.yaml"
    path.write_text(
        "_type: ChatBedrockConverse\nmodel: m\nregion_name: us-east-1\n"
        "aws_secret_access_key: PROD_AWS_SECRET\n"
    )
    (finding,) = validate_manifest(path, env={})
    assert (finding.phase, finding.path, finding.line) == (
        "structure",
        "$.aws_secret_access_key",
        4,
    )


def test_the_documented_custom_tags_are_the_tags_runwire_reads() -> None:
    import re

    from runwire.loader.source import YAML_TAGS

    text = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = text.split("## The manifest schema and editors", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    settings = orjson.loads(block)
    assert settings["yaml.customTags"] == [f"{tag} scalar" for tag in YAML_TAGS]
    assert "yaml.schemas" in settings
