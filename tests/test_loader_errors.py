"""Error types, paths, hints, locations and ``to_dict``."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

import runwire
from conftest import LOAD_TEST_CLASSES, ctor, keyed_probe, not_implemented, secret
from runwire import errors
from runwire.errors import (
    FieldValidationError,
    LimitExceededError,
    ManifestError,
    ManifestSyntaxError,
    MissingSecretError,
    NotAllowedError,
    NotSerializableError,
    SecretPlacementError,
    UnknownFieldError,
    UnknownIdError,
    ValidatorRejectedError,
    format_path,
)

HUMAN = ["runwire", "messages", "HumanMessage"]
DOCUMENT = ["runwire", "documents", "Document"]
ERROR_CLASSES = [
    obj
    for name in errors.__all__
    if inspect.isclass(obj := getattr(errors, name)) and issubclass(obj, ManifestError)
]

# (error, value to load, extra load options, expected path)
CASES: list[tuple[type[ManifestError], Any, dict[str, Any], str]] = [
    (LimitExceededError, [[[[]]]], {"limits": runwire.Limits(max_depth=2)}, "$[0][0]"),
    (UnknownIdError, [ctor(["runwire", "nope", "Thing"])], {}, "$[0].id"),
    (
        NotAllowedError,
        {"d": ctor(DOCUMENT, page_content="x")},
        {"allowed_objects": "messages"},
        "$.d.id",
    ),
    (UnknownFieldError, ctor(DOCUMENT, page_content="x", colour=1), {}, "$.kwargs.colour"),
    (FieldValidationError, ctor(DOCUMENT, page_content=["x"]), {}, "$.kwargs.page_content"),
    (SecretPlacementError, {"a b": [secret("X")]}, {}, "$['a b'][0]"),
    (
        MissingSecretError,
        keyed_probe(api_key=secret("RUNWIRE_NOPE")),
        LOAD_TEST_CLASSES,
        "$.kwargs.api_key",
    ),
    (NotSerializableError, [1, not_implemented(["m", "C"])], {}, "$[1]"),
    (ValidatorRejectedError, ctor(HUMAN, content="x", template_format="jinja2"), {}, "$.kwargs"),
]


def test_every_error_is_a_runwire_error() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if inspect.isclass(obj):
            assert issubclass(obj, errors.RunwireError), obj


def test_every_manifest_error_is_a_value_error() -> None:
    assert len(ERROR_CLASSES) >= 11
    for cls in ERROR_CLASSES:
        assert issubclass(cls, ValueError), cls


@pytest.mark.parametrize(
    ("error", "value", "options", "path"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_each_error_names_its_path_and_a_hint(
    error: type[ManifestError],
    value: Any,
    options: dict[str, Any],
    path: str,
    registered: list[str],
) -> None:
    with pytest.raises(ManifestError) as info:
        runwire.load(value, **options)
    err = info.value
    assert type(err) is error
    assert err.path == path
    text = str(err)
    assert text.startswith(f"{path}: {err.message}")
    if err.hint:
        assert text.endswith(f"\n  hint: {err.hint}")
    else:  # only the validator's refusal may go without one: its message says what to do
        assert error is ValidatorRejectedError and "init_validator=None" in err.message


def test_every_manifest_error_subclass_has_a_case() -> None:
    covered = {c[0] for c in CASES} | {ManifestSyntaxError, ManifestError}
    assert set(ERROR_CLASSES) <= covered


def test_bad_third_message_in_a_list() -> None:
    good = runwire.dumpd(runwire.HumanMessage("hi"))
    bad = ctor(HUMAN, content=5)
    with pytest.raises(FieldValidationError) as info:
        runwire.load([good, good, bad])
    text = str(info.value)
    assert "$[2].kwargs.content" in text and "HumanMessage" in text
    assert "\n  hint: " in text and "content" in info.value.hint


def test_union_field_error_path_is_the_json_path() -> None:
    with pytest.raises(FieldValidationError) as info:
        runwire.load([1, 2, ctor(HUMAN, content=5)])
    assert info.value.path == "$[2].kwargs.content"


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [('{"a": [1, 2,, 3]}', 1, 13), ('{\n  "a": [1,\n 2,, 3]}', 3, 4), ("", 1, 1), ("[1", 1, 3)],
)
def test_invalid_json_has_line_and_column(text: str, line: int, column: int) -> None:
    with pytest.raises(ManifestSyntaxError) as info:
        runwire.loads(text)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert str(err).startswith(f"<string>:{line}:{column}: $: invalid JSON")
    assert err.hint


def test_source_name_is_reported() -> None:
    with pytest.raises(ManifestSyntaxError) as info:
        runwire.loads(b'{"a": tru}', source="configs/chat.json")
    assert info.value.location.startswith("configs/chat.json:1:")
    with pytest.raises(ManifestSyntaxError):
        runwire.loads(b"\xff\xfe")  # not UTF-8


def test_locate_maps_paths_to_lines() -> None:
    seen: list[tuple[Any, ...]] = []

    def locate(parts: tuple[Any, ...]) -> tuple[str, int, int, tuple[Any, ...]]:
        seen.append(parts)
        return ("kb.json", 7, 3, parts)

    with pytest.raises(UnknownFieldError) as info:
        runwire.load([ctor(DOCUMENT, page_content="x", pgae=1)], source="kb.json", locate=locate)
    err = info.value
    assert seen == [(0, "kwargs", "pgae")]
    assert (err.file, err.line, err.column, err.location) == ("kb.json", 7, 3, "kb.json:7:3")
    assert str(err).startswith("kb.json:7:3: $[0].kwargs.pgae: ")


def test_to_dict_shape() -> None:
    with pytest.raises(UnknownIdError) as info:
        runwire.load({"x": ctor(["runwire", "messages", "AIMesage"])})
    data = info.value.to_dict()
    assert data == {
        "error": "UnknownIdError",
        "message": "unknown class id runwire.messages.AIMesage",
        "path": "$.x.id",
        "hint": data["hint"],
        "file": None,
        "line": None,
        "column": None,
    }
    assert "AIMessage" in data["hint"]
    assert json.loads(json.dumps(data)) == data


def test_format_path_and_manual_errors() -> None:
    assert format_path(()) == "$"
    assert format_path(("kwargs", "middle", 0)) == "$.kwargs.middle[0]"
    assert format_path(["a-b", 1, "ok"]) == "$['a-b'][1].ok"
    err = ManifestError("bad", path=("steps", 1), hint="fix it", file="f.json", line=2)
    assert err.path == "$.steps[1]" and err.location == "f.json:2"
    assert str(err) == "f.json:2: $.steps[1]: bad\n  hint: fix it"
    assert str(ManifestError("plain")) == "$: plain"


@pytest.mark.parametrize(
    ("node", "path"),
    [
        ({"lc": 1, "type": "constructor", "id": "runwire.documents.Document"}, "$.id"),
        ({"lc": 1, "type": "constructor", "id": []}, "$.id"),
        ({"lc": 1, "type": "constructor", "id": ["runwire", 3]}, "$.id"),
        ({"lc": 1, "type": "constructor", "id": DOCUMENT, "kwargs": ["x"]}, "$.kwargs"),
    ],
)
def test_malformed_constructor_nodes(node: dict[str, Any], path: str) -> None:
    with pytest.raises(ManifestError) as info:
        runwire.load(node)
    assert info.value.path == path


def test_malformed_secret_id_in_a_secret_field(registered: list[str]) -> None:
    node = keyed_probe(api_key={"lc": 1, "type": "secret", "id": ["A", "B"]})
    with pytest.raises(ManifestError) as info:
        runwire.load(node, **LOAD_TEST_CLASSES)
    assert info.value.path == "$.kwargs.api_key" and registered == []


@pytest.mark.parametrize("ident", [5, True])
def test_not_implemented_with_non_list_id_is_a_manifest_error(ident: Any) -> None:
    with pytest.raises(ManifestError):
        runwire.load({"lc": 1, "type": "not_implemented", "id": ident})


def test_dump_errors() -> None:
    with pytest.raises(NotSerializableError) as info:
        runwire.dumps(runwire.HumanMessage("x", additional_kwargs={"n": 2**70}))
    assert info.value.hint
    with pytest.raises(ValueError, match="dialect"):
        runwire.dumps(runwire.HumanMessage("x"), dialect="yaml")  # type: ignore[arg-type]
