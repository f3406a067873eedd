"""What the loader refuses, and that a refused manifest builds nothing.

Malicious nodes sit inside a ``Probe`` payload (or before a ``Probe``): the test classes
log every instance they build, so an empty log proves nothing was instantiated.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest

import runwire
from conftest import (
    FAKE_SECRET,
    LOAD_TEST_CLASSES,
    TEST_NS,
    ctor,
    keyed_probe,
    not_implemented,
    probe,
    secret,
)
from runwire.errors import (
    FieldValidationError,
    LimitExceededError,
    MissingSecretError,
    NotAllowedError,
    NotSerializableError,
    SecretPlacementError,
    UnknownFieldError,
    UnknownIdError,
    ValidatorRejectedError,
)

HUMAN = ["runwire", "messages", "HumanMessage"]
DOCUMENT = ["runwire", "documents", "Document"]


def refuse(error: type[Exception], value: Any, **options: Any) -> Any:
    """Load ``value`` expecting exactly ``error``; returns the exception."""
    with pytest.raises(error) as info:
        runwire.load(value, **{**LOAD_TEST_CLASSES, **options})
    assert type(info.value) is error
    if error is not ValidatorRejectedError:  # the validator's message is its own hint
        assert info.value.hint
    return info.value


# -- ids -------------------------------------------------------------------------------


def test_unregistered_id_builds_nothing(registered: list[str]) -> None:
    err = refuse(UnknownIdError, probe(payload=ctor([TEST_NS, "Evil"], x=1)))
    assert err.path == "$.kwargs.payload.id"
    assert f"{TEST_NS}.Evil" in str(err)
    assert registered == []


@pytest.mark.parametrize(
    "ident", [["os", "system"], ["subprocess", "Popen"], ["builtins", "eval"], ["canary", "Boom"]]
)
def test_module_path_ids_are_never_imported(
    ident: list[str], registered: list[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "import pathlib\npathlib.Path(__file__).with_suffix('.hit').touch()\n"
    (tmp_path / "canary.py").write_text(canary)
    monkeypatch.syspath_prepend(str(tmp_path))
    calls: list[Any] = []
    monkeypatch.setattr("os.system", lambda *a: calls.append(a))
    node = probe(payload=ctor(ident, command="echo pwned"))
    err = refuse(UnknownIdError, node, valid_namespaces=[TEST_NS, ident[0]])
    assert ".".join(ident) in err.message
    assert calls == [] and registered == []
    assert "canary" not in sys.modules and not (tmp_path / "canary.hit").exists()


def test_unknown_id_suggests_nearest_names() -> None:
    err = refuse(UnknownIdError, ctor(["runwire", "messages", "AIMesage"], content="x"))
    assert "AIMessage" in err.hint and err.path == "$.id"
    err = refuse(UnknownIdError, ctor(["langchain", "schema", "messages", "HumanMesage"]))
    assert "HumanMessage" in err.hint


def test_unknown_kwarg_suggests_nearest_field(registered: list[str]) -> None:
    err = refuse(UnknownFieldError, ctor(DOCUMENT, page_contnet="x"))
    assert "page_content" in err.hint and err.path == "$.kwargs.page_contnet"
    err = refuse(UnknownFieldError, probe(payload=probe(paylod=1)))
    assert "payload" in err.hint and err.path == "$.kwargs.payload.kwargs.paylod"
    assert registered == []


# -- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"content": secret("OPENAI_API_KEY")}, "$.kwargs.content"),
        ({"additional_kwargs": {"key": secret("K")}}, "$.kwargs.additional_kwargs.key"),
        ({"content": [{"type": "text", "text": secret("K")}]}, "$.kwargs.content[0].text"),
    ],
)
def test_secret_node_outside_a_secret_field_is_refused(
    kwargs: dict[str, Any], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_SECRET)
    monkeypatch.setenv("K", FAKE_SECRET)
    err = refuse(
        SecretPlacementError,
        ctor(HUMAN, **kwargs),
        secrets_map={"OPENAI_API_KEY": FAKE_SECRET, "K": FAKE_SECRET},
        secrets_from_env=True,
    )
    assert err.path == path
    assert FAKE_SECRET not in str(err)


def test_secret_node_in_payload_builds_nothing(registered: list[str]) -> None:
    node = probe(payload={"first": secret("TOKEN"), "later": probe()})
    err = refuse(SecretPlacementError, node, secrets_map={"TOKEN": FAKE_SECRET})
    assert err.path == "$.kwargs.payload.first"
    # a secret node is only accepted directly in the secret field, not nested in it
    nested = keyed_probe(api_key=[secret("API_KEY")])
    refuse(SecretPlacementError, nested, secrets_map={"API_KEY": "v"})
    assert registered == []


def test_env_is_not_read_by_default(registered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_TEST_KEY", FAKE_SECRET)
    node = keyed_probe(api_key=secret("RUNWIRE_TEST_KEY"))
    err = refuse(MissingSecretError, node)
    assert err.path == "$.kwargs.api_key" and "RUNWIRE_TEST_KEY" in str(err)
    assert FAKE_SECRET not in str(err) + repr(err.to_dict())
    assert registered == []
    obj = runwire.load(node, secrets_from_env=True, **LOAD_TEST_CLASSES)
    assert obj.api_key.get_secret_value() == FAKE_SECRET
    obj = runwire.load(
        node, secrets_from_env=True, secrets_map={"RUNWIRE_TEST_KEY": "m"}, **LOAD_TEST_CLASSES
    )
    assert obj.api_key.get_secret_value() == "m"  # secrets_map wins over the environment
    monkeypatch.setenv("RUNWIRE_TEST_KEY", "")
    refuse(MissingSecretError, node, secrets_from_env=True)


def test_missing_optional_secret_is_an_error(registered: list[str]) -> None:
    # a secret a manifest names is meant: an unset optional one is never left None (issue 17)
    err = refuse(MissingSecretError, probe(token=secret("RUNWIRE_UNSET_TOKEN")))
    assert err.path == "$.kwargs.token" and "RUNWIRE_UNSET_TOKEN" in str(err)
    assert registered == []  # nothing is built
    assert runwire.load(probe(), **LOAD_TEST_CLASSES).token is None
    assert registered == ["Probe"]  # the counter does count what is built


def test_secret_field_value_never_in_validation_errors(registered: list[str]) -> None:
    err = refuse(FieldValidationError, keyed_probe(api_key=[FAKE_SECRET]))
    assert err.path == "$.kwargs.api_key"
    assert FAKE_SECRET not in str(err) + repr(err.to_dict()) + repr(err.args)
    err = refuse(FieldValidationError, probe(payload=ctor(DOCUMENT, page_content=5)))
    assert "$.kwargs.payload.kwargs.page_content" in str(err)
    assert registered == []


def test_escaped_dicts_stay_data(registered: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", FAKE_SECRET)
    inner = {"nested": probe(), "s": secret("TOKEN")}
    obj = runwire.load(
        probe(payload={"__lc_escaped__": inner}), secrets_from_env=True, **LOAD_TEST_CLASSES
    )
    assert obj.payload == inner and registered == ["Probe"]


# -- init_validator --------------------------------------------------------------------


def test_jinja2_is_refused_by_default(registered: list[str]) -> None:
    node = probe(template_format="jinja2", payload=probe())
    err = refuse(ValidatorRejectedError, node)
    assert err.path == "$.kwargs" and "jinja2" in err.message
    assert "init_validator=None" in str(err)  # says how to allow it for trusted files
    err = refuse(ValidatorRejectedError, probe(payload=node))
    assert err.path == "$.kwargs.payload.kwargs"
    assert registered == []
    obj = runwire.load(node, init_validator=None, **LOAD_TEST_CLASSES)
    assert obj.template_format == "jinja2" and registered == ["Probe", "Probe"]


def test_custom_init_validator_sees_id_and_kwargs(registered: list[str]) -> None:
    seen: list[Any] = []

    def validator(ident: tuple[str, ...], kwargs: dict[str, Any]) -> None:
        seen.append((ident, dict(kwargs)))
        if kwargs.get("payload") == "bad":
            raise RuntimeError("payload 'bad' is not allowed here")

    assert runwire.load(probe(payload=1), init_validator=validator, **LOAD_TEST_CLASSES)
    assert seen == [((TEST_NS, "Probe"), {"payload": 1})]
    err = refuse(ValidatorRejectedError, probe(payload="bad"), init_validator=validator)
    assert "not allowed here" in err.message


# -- limits ----------------------------------------------------------------------------


def deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_bomb_text(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * 10_000 + ("" if opener == "[" else "1") + closer * 10_000
    start = time.perf_counter()
    with pytest.raises(LimitExceededError):
        runwire.loads(text)
    assert time.perf_counter() - start < 5  # generous: only catches pathological slowness


def test_nesting_bomb_data(registered: list[str]) -> None:
    chains: list[Any] = [deep_list(10_000)]
    value: Any = probe()
    for _ in range(10_000):
        value = probe(payload=value)
    chains.append(value)
    mapping: Any = {}
    for _ in range(10_000):
        mapping = {"a": mapping}
    chains.append(mapping)
    start = time.perf_counter()
    for bomb in chains:
        with pytest.raises(LimitExceededError) as info:
            runwire.load(bomb, **LOAD_TEST_CLASSES)
        assert "100 levels" in info.value.message
    assert time.perf_counter() - start < 5
    assert registered == []


def test_max_depth_boundary() -> None:
    limits = runwire.Limits(max_depth=5)
    assert runwire.load(deep_list(5), limits=limits) == deep_list(5)
    with pytest.raises(LimitExceededError) as info:
        runwire.load(deep_list(6), limits=limits)
    assert info.value.path == "$" + "[0]" * 5


def test_max_bytes() -> None:
    text = json.dumps(["x" * 40])
    size = len(text)
    assert runwire.loads(text, limits=runwire.Limits(max_bytes=size)) == ["x" * 40]
    for data in (text, text.encode()):
        with pytest.raises(LimitExceededError) as info:
            runwire.loads(data, limits=runwire.Limits(max_bytes=size - 1))
        assert str(size) in info.value.message and "max_bytes" in info.value.hint


def test_max_bytes_counts_utf8_bytes_of_str_input() -> None:
    text = json.dumps("é" * 60, ensure_ascii=False)  # 62 characters, 122 bytes
    with pytest.raises(LimitExceededError):
        runwire.loads(text, limits=runwire.Limits(max_bytes=100))


def test_max_nodes() -> None:
    limits = runwire.Limits(max_nodes=10)
    assert runwire.load(list(range(5)), limits=limits) == list(range(5))
    assert runwire.load({"a": [1, 2], "b": 3}, limits=limits) == {"a": [1, 2], "b": 3}
    for value in (list(range(20)), {str(i): i for i in range(20)}, [[0] * 4] * 4):
        with pytest.raises(LimitExceededError) as info:
            runwire.load(value, limits=limits)
        assert "10 nodes" in info.value.message and "max_nodes" in info.value.hint
    text = json.dumps([{"lc": 0, "n": i} for i in range(20)])
    with pytest.raises(LimitExceededError):
        runwire.loads(text, limits=limits)


# -- allowed_objects, namespaces, not_implemented ----------------------------------------


def test_allowed_objects_messages_refuses_document() -> None:
    err = refuse(
        NotAllowedError,
        [ctor(HUMAN, content="x"), ctor(DOCUMENT, page_content="d")],
        allowed_objects="messages",
    )
    assert err.path == "$[1].id" and "Document" in err.message


def test_allowed_objects_list_of_classes() -> None:
    ai = ctor(["langchain", "schema", "messages", "AIMessage"], content="x")
    err = refuse(NotAllowedError, ai, allowed_objects=[runwire.HumanMessage])
    assert "AIMessage" in err.message
    human = runwire.load(ctor(HUMAN, content="x"), allowed_objects=[runwire.HumanMessage])
    assert human == runwire.HumanMessage("x")
    with pytest.raises(TypeError):
        runwire.load(ai, allowed_objects=[dict])
    with pytest.raises(ValueError, match="allowed_objects"):
        runwire.load(ai, allowed_objects="everything")


def test_user_classes_need_all_and_their_namespace(registered: list[str]) -> None:
    refuse(NotAllowedError, probe(), allowed_objects="core")
    err = refuse(NotAllowedError, probe(), valid_namespaces=None)
    assert repr(TEST_NS) in err.message and "valid_namespaces" in err.hint
    assert registered == []
    assert runwire.load(probe(), **LOAD_TEST_CLASSES).payload is None


def test_not_implemented_nodes(registered: list[str]) -> None:
    node = probe(payload={"obj": not_implemented(["mod", "Thing"])})
    err = refuse(NotSerializableError, node)
    assert err.path == "$.kwargs.payload.obj" and "mod.Thing" in err.message
    assert registered == []
    obj = runwire.load(node, ignore_unserializable_fields=True, **LOAD_TEST_CLASSES)
    assert obj.payload == {"obj": None}
