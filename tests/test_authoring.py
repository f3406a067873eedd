"""The authoring form: files, includes, overlays, --set, ${VAR}, helpers, and where errors point."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import runwire
from conftest import TEST_NS
from runwire.errors import (
    FieldValidationError,
    LimitExceededError,
    ManifestError,
    ManifestSyntaxError,
    SecretPlacementError,
    UnknownFieldError,
    UnknownIdError,
)
from runwire.loader.authoring import HELPERS, compact, expand
from runwire.loader.files import Manifest, load_file
from runwire.loader.interpolate import UnsetVariableError, interpolate, placeholders
from runwire.loader.source import apply_set, deep_merge
from runwire.runtime import StrOutputParser
from runwire.runtime.configurable import RunnableConfigurableAlternatives
from runwire.runtime.sequence import RunnableSequence

CHAIN = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: "Say {word}"
  - _type: FakeChatModel
    responses: [Hi]
  - _type: StrOutputParser
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")  # marks the project root
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(path: Path | list[Path], **kwargs: Any) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_file(path, **kwargs)
    return info.value


# -- reading ---------------------------------------------------------------------------
def test_yaml_authoring_file_loads_and_runs(project: Path) -> None:
    chain = load_file(write(project, "c.yaml", CHAIN))
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke({"word": "hi"}) == "Hi"


def test_json_authoring_and_wire_forms_mix(project: Path) -> None:
    wire = runwire.dumps(StrOutputParser())
    text = (
        '{"_type": "sequence", "steps": [{"_type": "FakeChatModel", "responses": ["ok"]}, '
        + wire
        + "]}"
    )
    chain = load_file(write(project, "c.json", text))
    assert chain.invoke("x") == "ok"


def test_full_ids_and_langchain_ids_are_accepted_as_type(project: Path) -> None:
    text = (
        "_type: sequence\nsteps:\n"
        "  - _type: runwire.models.FakeChatModel\n    responses: [a]\n"
        "  - _type: [langchain, schema, output_parser, StrOutputParser]\n"
    )
    assert load_file(write(project, "c.yaml", text)).invoke("x") == "a"


def test_aliases_are_accepted(project: Path) -> None:
    # `input_variables` is written by LangChain; `prompt` templates take aliases too
    text = "_type: PromptTemplate\ntemplate: '{a}'\ninput_variables: [a]\n"
    assert load_file(write(project, "p.yaml", text)).invoke({"a": "1"}).to_string() == "1"


def test_secret_tag_and_mapping_resolve_only_in_secret_fields(
    project: Path, registered: list[str]
) -> None:
    path = write(project, "k.yaml", "_type: KeyedProbe\napi_key: !secret TEST_KEY\n")
    model = load_file(path, secrets_map={"TEST_KEY": "s3cr3t"}, valid_namespaces=[TEST_NS])
    assert model.api_key.get_secret_value() == "s3cr3t"
    same = write(project, "k2.yaml", "_type: KeyedProbe\napi_key: {_secret: TEST_KEY}\n")
    loaded = load_file(same, secrets_map={"TEST_KEY": "v"}, valid_namespaces=[TEST_NS])
    assert loaded.api_key.get_secret_value() == "v"
    assert "s3cr3t" not in repr(model) and "s3cr3t" not in runwire.dumps(model)


def test_a_secret_in_a_plain_field_is_refused_with_its_position(project: Path) -> None:
    path = write(
        project,
        "s.yaml",
        "_type: PromptTemplate\ntemplate: hi\npartial_variables:\n"
        "  k: !secret AWS_SECRET_ACCESS_KEY\n",
    )
    err = error_of(path, secrets_map={"AWS_SECRET_ACCESS_KEY": "leak-me"})
    assert isinstance(err, SecretPlacementError)
    assert (err.line, err.column, err.path) == (4, 3, "$.partial_variables.k")
    assert "leak-me" not in str(err)


def test_unknown_type_suggests_the_nearest(project: Path) -> None:
    err = error_of(write(project, "u.yaml", CHAIN.replace("StrOutputParser", "StrOutputParsr")))
    assert isinstance(err, UnknownIdError)
    assert err.location.endswith("u.yaml:7:5") and err.path == "$.steps[2]._type"
    assert "StrOutputParser" in err.hint


def test_misspelt_kwarg_suggests_the_field(project: Path) -> None:
    err = error_of(write(project, "m.yaml", CHAIN.replace("responses", "responsess")))
    assert isinstance(err, UnknownFieldError)
    assert (err.line, err.path) == (6, "$.steps[1].responsess")
    assert "responses" in err.hint


def test_wrong_kwarg_type_points_at_the_value(project: Path) -> None:
    err = error_of(write(project, "w.yaml", CHAIN.replace("responses: [Hi]", "chunk_size: many")))
    assert isinstance(err, FieldValidationError)
    assert (err.line, err.path) == (6, "$.steps[1].chunk_size")
    assert "FakeChatModel.chunk_size" in err.message


def test_yaml_syntax_error_has_line_and_column(project: Path) -> None:
    err = error_of(write(project, "y.yaml", "_type: sequence\nsteps: [a, b\n"))
    assert isinstance(err, ManifestSyntaxError)
    assert err.file.endswith("y.yaml") and err.line == 3


def test_empty_file_is_refused(project: Path) -> None:
    err = error_of(write(project, "e.yaml", "  \n# nothing\n"[:3]))
    assert "empty" in err.message and err.location.endswith("e.yaml:1:1")


def test_huge_file_is_refused_before_reading(project: Path) -> None:
    path = project / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: nothing to read if it were read
    started = time.perf_counter()
    err = error_of(path)
    assert isinstance(err, LimitExceededError) and "52428800 bytes" in err.message
    assert time.perf_counter() - started < 5  # generous: reading and parsing would take far longer


def test_python_tags_and_unknown_tags_are_refused(project: Path) -> None:
    path = write(project, "t.yaml", "x: !!python/object/apply:os.system [echo pwned]\n")
    err = error_of(path)
    assert "unknown YAML tag" in err.message and err.line == 1


def test_alias_bombs_hit_the_node_limit(project: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    path = write(project, "bomb.yaml", "\n".join(lines) + "\n")  # 10**8 nodes expanded
    err = error_of(path, limits=runwire.Limits(max_nodes=20_000))
    assert isinstance(err, LimitExceededError) and "20000 nodes" in err.message


# -- includes ---------------------------------------------------------------------------
def test_include_tag_and_mapping_with_overrides(project: Path) -> None:
    write(project, "frag/model.yaml", "_type: FakeChatModel\nresponses: [from-fragment]\n")
    write(project, "frag/parser.json", '{"_type": "StrOutputParser"}')
    path = write(
        project,
        "app/c.yaml",
        "_type: sequence\nsteps:\n  - _include: ../frag/model.yaml\n    responses: [overridden]\n"
        "  - !include ../frag/parser.json\n",
    )
    assert load_file(path).invoke("x") == "overridden"


def test_errors_inside_an_include_point_into_the_fragment(project: Path) -> None:
    write(project, "frag.yaml", "_type: FakeChatModel\nresponsez: [a]\n")
    err = error_of(
        write(
            project,
            "c.yaml",
            "_type: sequence\nsteps:\n  - !include frag.yaml\n  - _type: StrOutputParser\n",
        )
    )
    assert err.file.endswith("frag.yaml") and err.line == 2
    assert err.path == "$.steps[0].responsez"


def test_include_cycle_is_an_error(project: Path) -> None:
    write(
        project, "a.yaml", "_type: sequence\nsteps: [!include b.yaml, {_type: StrOutputParser}]\n"
    )
    write(project, "b.yaml", "_include: a.yaml\n")
    err = error_of(project / "a.yaml")
    assert "include cycle: a.yaml -> b.yaml -> a.yaml" in err.message


def test_include_outside_the_root_is_an_error(project: Path) -> None:
    inner = project / "inner"
    write(inner, "pyproject.toml", "")
    write(project, "secret.yaml", "_type: StrOutputParser\n")
    err = error_of(write(inner, "c.yaml", "!include ../secret.yaml\n"))
    assert "outside the project root" in err.message


# -- overlays and --set -----------------------------------------------------------------
def test_overlays_merge_mappings_index_keys_and_nulls(project: Path) -> None:
    base = write(project, "base.yaml", CHAIN)
    over = write(project, "prod.yaml", "steps:\n  1:\n    responses: [Prod]\n    chunk_size: 2\n")
    chain = load_file([base, over])
    assert chain.invoke({"word": "x"}) == "Prod"
    assert chain.middle[0].chunk_size == 2
    drop = write(project, "drop.yaml", "steps:\n  1:\n    chunk_size: null\n")
    assert load_file([base, over, drop]).middle[0].chunk_size == 0
    assert deep_merge([1, 2], {"5": 3}) == {"5": 3}  # not an index: replaces


def test_overlay_errors_point_at_the_overlay(project: Path) -> None:
    base = write(project, "base.yaml", CHAIN)
    over = write(project, "prod.yaml", "steps:\n  1:\n    respones: [Prod]\n")
    err = error_of([base, over])
    assert err.file.endswith("prod.yaml") and err.line == 3


def test_set_overrides_one_value_typed_as_yaml(project: Path) -> None:
    chain = load_file(
        write(project, "c.yaml", CHAIN),
        sets=["steps.1.chunk_size=3", "steps.1.responses=[Set]"],
    )
    assert chain.middle[0].chunk_size == 3 and chain.invoke({"word": "x"}) == "Set"
    with pytest.raises(ManifestError, match="no item 9"):
        apply_set({"steps": [1]}, "steps.9.x=1")
    with pytest.raises(ManifestError, match="PATH=VALUE"):
        apply_set({}, "novalue")


# -- ${VAR} -----------------------------------------------------------------------------
def test_interpolation_defaults_escapes_and_unset_errors(project: Path) -> None:
    text = CHAIN.replace("[Hi]", '["${GREETING:-Hello} $${literal} ${NAME}"]')
    path = write(project, "i.yaml", text)
    chain = load_file(path, env={"NAME": "Ada"})
    assert chain.invoke({"word": "x"}) == "Hello ${literal} Ada"
    err = error_of(path, env={})
    assert isinstance(err, UnsetVariableError)
    assert "NAME" in err.message and (err.line, err.path) == (6, "$.steps[1].responses[0]")


def test_credential_like_variables_are_not_interpolated() -> None:
    with pytest.raises(ManifestError, match="looks like a credential") as info:
        interpolate({"t": "${BILLING_API_KEY}"}, {"BILLING_API_KEY": "sk-live"})
    assert "sk-live" not in str(info.value)
    assert "RUNWIRE_INTERPOLATE_ALLOW=BILLING_API_KEY" in info.value.hint


def test_placeholders_skip_secret_nodes_and_escapes() -> None:
    data = {"a": "${A} ${B:-b}", "s": {"_secret": "${C}"}, "e": "$${D}"}
    assert [(p.name, p.default, p.path) for p in placeholders(data)] == [
        ("A", None, ("a",)),
        ("B", "b", ("a",)),
    ]


# -- helpers and the two forms ------------------------------------------------------------
HELPER_DOCS: dict[str, tuple[str, Any, Any]] = {
    "parallel": (
        "_type: parallel\nbranches:\n  a: {_type: passthrough}\n  b: {_type: pick, keys: k}\n",
        {"k": 1},
        {"a": {"k": 1}, "b": 1},
    ),
    "assign": (
        "_type: assign\nbranches:\n  b: {_type: pick, keys: k}\n",
        {"k": 1},
        {"k": 1, "b": 1},
    ),
    "branch": (
        "_type: branch\nbranches:\n  - [{_type: pick, keys: flag}, {_type: pick, keys: yes}]\n"
        "default: {_type: pick, keys: no}\n",
        {"flag": True, "yes": "Y", "no": "N"},
        "Y",
    ),
    "bind": ("_type: bind\nbound: {_type: FakeChatModel}\nkwargs: {stop: [x]}\n", "hi", None),
    "each": ("_type: each\nbound: {_type: pick, keys: a}\n", [{"a": 1}, {"a": 2}], [1, 2]),
    "retry": ("_type: retry\nstop_after_attempt: 2\nbound: {_type: passthrough}\n", 5, 5),
    "fallbacks": (
        "_type: fallbacks\nrunnable: {_type: passthrough}\nfallbacks: [{_type: passthrough}]\n",
        1,
        1,
    ),
    "configurable": (
        "_type: configurable\ndefault: {_type: FakeChatModel, responses: [a]}\n"
        "fields: {responses: {id: r}}\n",
        "x",
        None,
    ),
    "alternatives": (
        "_type: alternatives\nwhich: {id: m}\ndefault: {_type: passthrough}\n"
        "alternatives: {other: {_type: pick, keys: k}}\n",
        {"k": 2},
        {"k": 2},
    ),
    "sequence": (
        "_type: sequence\nsteps:\n  - {a: {_type: passthrough}}\n  - {_type: pick, keys: a}\n",
        7,
        7,
    ),
    "passthrough": ("_type: passthrough\nname: p\n", 3, 3),
    "pick": ("_type: pick\nkeys: [a]\n", {"a": 1, "b": 2}, {"a": 1}),
}


def test_every_helper_has_an_example() -> None:
    assert set(HELPER_DOCS) == set(HELPERS)


@pytest.mark.parametrize("name", sorted(HELPER_DOCS))
def test_helpers_build_and_round_trip(project: Path, name: str) -> None:
    text, value, expected = HELPER_DOCS[name]
    pipeline = load_file(write(project, f"{name}.yaml", text))
    if expected is not None:
        assert pipeline.invoke(value) == expected
    wire = runwire.dumpd(pipeline)
    short = compact(wire)
    assert short["_type"] == name
    assert runwire.dumpd(runwire.load(expand(short), allowed_objects="all")) == wire


def test_alternatives_default_prefix_keys(project: Path) -> None:
    text, *_ = HELPER_DOCS["alternatives"]
    built = load_file(write(project, "a.yaml", text))
    assert isinstance(built, RunnableConfigurableAlternatives) and built.prefix_keys is False


def test_a_one_step_sequence_is_explained(project: Path) -> None:
    err = error_of(write(project, "s.yaml", "_type: sequence\nsteps: [{_type: passthrough}]\n"))
    assert "at least 2 steps" in err.message and (err.path, err.line) == ("$.steps", 2)


def test_manifest_keeps_placeholders_for_offline_checks(project: Path) -> None:
    path = write(project, "p.yaml", CHAIN.replace("[Hi]", '["${UNSET_THING}"]'))
    manifest = Manifest.read(path)
    wire = manifest.wire({}, keep_unset=True)
    assert "${UNSET_THING}" in str(wire.data)
    assert wire.source_path(("kwargs", "middle", 0, "kwargs", "responses")) == (
        "steps",
        1,
        "responses",
    )
