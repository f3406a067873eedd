"""LcJsonSerializer: what state may hold, how it is written, and what reading refuses."""

from __future__ import annotations

import dataclasses
import math
import pickle
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, SecretStr

from runwire import AIMessage, Document, HumanMessage, ManifestError, ToolMessage
from runwire.errors import NotAllowedError, NotSerializableError, UnknownIdError
from runwire.graph.checkpoint import LcJsonSerializer, StoredError

ENVELOPE = {"lc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {"cmd": "id"}}
SECRET_NODE = {"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]}
serde = LcJsonSerializer()


class Color(Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    when: datetime | None = None


@dataclasses.dataclass
class Box:
    label: str
    items: tuple[int, ...] = ()


def roundtrip(value: Any, s: LcJsonSerializer = serde) -> Any:
    return s.loads(s.dumps(value))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -(2**63),
        2**64 - 1,
        2**80,
        -(2**70),
        1.5,
        'text with "quotes" and \\u0000 and \n',
        [1, "a", [None]],
        {"a": {"b": [1, {"c": "d"}]}},
        (1, (2, "x")),
        {1, 2},
        frozenset({"a"}),
        b"\x00\xffbytes",
        bytearray(b"ab"),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5),
        date(2026, 1, 2),
        time(3, 4, 5),
        timedelta(days=-1, seconds=5, microseconds=7),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Decimal("1.10"),
        float("inf"),
        float("-inf"),
        {1: "int key", (1, 2): "tuple key", None: "none key"},
        {"when": [datetime(2026, 1, 1)], "ids": {uuid.UUID(int=1)}},
    ],
    ids=repr,
)
def test_values_state_holds_come_back_equal_and_of_the_same_type(value: Any) -> None:
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_nan_comes_back_as_nan() -> None:
    assert math.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize(
    "value",
    [
        ENVELOPE,
        {"lc": 2},
        {"__rw__": "datetime", "v": "2026-01-01"},
        {"__lc_escaped__": {"lc": 1}},
        {"lc": 1, "when": datetime(2026, 1, 1), "id": ["x"]},
        {"lc": {1: "non-str key"}},
        [{"outer": {"deeper": ENVELOPE}}],
    ],
    ids=repr,
)
def test_user_dicts_shaped_like_envelopes_come_back_as_the_same_dicts(value: Any) -> None:
    assert roundtrip(value) == value


def test_an_lc_dict_is_written_with_the_lc_escape() -> None:
    assert orjson.loads(serde.dumps({"field": ENVELOPE})) == {"field": {"__lc_escaped__": ENVELOPE}}


def test_messages_and_documents_keep_envelope_shaped_user_data_as_data() -> None:
    messages = [
        HumanMessage(content="x", id="1", additional_kwargs={"p": ENVELOPE}),
        AIMessage(content="", tool_calls=[{"name": "t", "args": {"a": ENVELOPE}, "id": "c"}]),
        ToolMessage(content="ok", tool_call_id="c", artifact=None),
        Document(page_content="p", metadata={"m": ENVELOPE}),
    ]
    back = roundtrip({"messages": messages})
    assert back == {"messages": messages}
    assert back["messages"][0].additional_kwargs["p"] == ENVELOPE
    assert back["messages"][3].metadata["m"] == ENVELOPE


def test_graph_values_round_trip() -> None:
    types = pytest.importorskip("runwire.graph.types")
    Send, Interrupt, Command = types.Send, types.Interrupt, types.Command
    RemoveMessage = pytest.importorskip("runwire.graph.messages").RemoveMessage
    values = [
        Send("node", {"arg": (1, 2), "e": ENVELOPE}),
        Interrupt(value={"q": "?"}, id="i1"),
        Command(update={"a": 1}, goto=[Send("n", 1)], resume="yes"),
        RemoveMessage(id="m1"),
    ]
    assert roundtrip(values) == values


def test_exceptions_come_back_as_builtin_types_or_stored_errors() -> None:
    class Custom(Exception):
        pass

    value = roundtrip([ValueError("bad value"), KeyError("k"), Custom("mine")])
    assert type(value[0]) is ValueError and str(value[0]) == "bad value"
    assert type(value[1]) is KeyError and value[1].args == ("k",)
    assert type(value[2]) is StoredError and value[2].type_name == "Custom"
    assert str(value[2]) == "mine"


def test_registered_models_dataclasses_and_enums_round_trip() -> None:
    s = LcJsonSerializer(types=[Point, Box, Color])
    value = {
        "p": Point(x=1, when=datetime(2026, 1, 1)),
        "b": Box("l", (1, 2)),
        "c": Color.RED,
    }
    assert roundtrip(value, s) == value


@pytest.mark.parametrize(
    ("value", "needle"),
    [(Point(x=1), "Point"), (Box("l"), "Box"), (Color.RED, "Color"), (object(), "object")],
    ids=["pydantic", "dataclass", "enum", "object"],
)
def test_unregistered_objects_are_refused_on_write(value: Any, needle: str) -> None:
    with pytest.raises(NotSerializableError, match=needle) as info:
        serde.dumps({"field": value})
    assert info.value.hint


def test_a_secret_value_is_never_written() -> None:
    with pytest.raises(NotSerializableError, match="secret") as info:
        serde.dumps({"key": SecretStr("hunter2-top-secret")})
    assert "hunter2" not in str(info.value)


def test_a_registered_model_read_by_a_serializer_without_it_is_refused() -> None:
    data = LcJsonSerializer(types=[Point]).dumps(Point(x=1))
    with pytest.raises(ManifestError, match="not registered"):
        serde.loads(data)


def tampered(value: Any) -> bytes:
    return orjson.dumps(value)


def test_an_unknown_class_id_is_refused() -> None:
    with pytest.raises(UnknownIdError):
        serde.loads(tampered({"state": ENVELOPE}))


def test_a_registered_class_outside_state_classes_is_not_built() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "prompts", "PromptTemplate"],
        "kwargs": {"template": "{x}", "input_variables": ["x"]},
    }
    with pytest.raises(NotAllowedError):
        serde.loads(tampered([node]))


@pytest.mark.parametrize(
    "node",
    [
        SECRET_NODE,
        {"lc": 1, "type": "not_implemented", "id": ["os", "system"], "repr": "x"},
        {"__rw__": "model", "name": "os.system", "v": {}},
        {"__rw__": "enum", "name": "subprocess.Popen", "v": "ls"},
        {"__rw__": "graph", "name": "Popen", "v": {}},
        {"__rw__": "pickle", "v": "gASV"},
        {"__rw__": ["list"], "v": 1},
        {"__rw__": "datetime", "v": 12},
        {"__rw__": "bytes", "v": "***"},
        {"__rw__": "dict", "v": [[1]]},
        {"__rw__": "graph", "name": "Send", "v": {"node": "n", "evil": 1}},
    ],
    ids=lambda n: str(n.get("type") or n.get("__rw__")),
)
def test_tampered_nodes_and_tags_are_manifest_errors(node: dict[str, Any]) -> None:
    before = set(sys.modules)
    with pytest.raises(ManifestError):
        serde.loads(tampered({"state": [node]}))
    assert not {"subprocess", "os.system"} & (set(sys.modules) - before)


def test_a_secret_node_inside_a_message_is_not_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
    msg = serde.dumps(HumanMessage(content="x"))
    data = orjson.loads(msg)
    data["kwargs"]["content"] = SECRET_NODE
    with pytest.raises(ManifestError) as info:
        serde.loads(tampered(data))
    assert "s3cr3t" not in str(info.value)


def test_keys_hidden_by_unicode_escapes_are_still_checked() -> None:
    hidden = b'{"\\u006cc": 1, "type": "constructor", "id": ["os", "system"], "kwargs": {}}'
    with pytest.raises(UnknownIdError):
        serde.loads(hidden)
    escaped = b'{"\\u005f_lc_escaped__": {"lc": 1, "type": "secret", "id": ["X"]}}'
    assert serde.loads(escaped) == {"lc": 1, "type": "secret", "id": ["X"]}


def test_an_escaped_dict_is_restored_as_the_plain_dict_never_built() -> None:
    data = tampered({"__lc_escaped__": ENVELOPE})
    assert serde.loads(data) == ENVELOPE


@pytest.mark.parametrize(
    "data",
    [pickle.dumps({"a": 1}), b"\x80\x04garbage", b"{not json", b"", b"\xff\xfe"],
    ids=["pickle", "pickle-header", "broken-json", "empty", "bad-utf8"],
)
def test_bytes_that_are_not_lc_json_are_refused(data: bytes) -> None:
    with pytest.raises(ManifestError, match="not lc JSON"):
        serde.loads(data)


@pytest.mark.parametrize("kind", ["msgpack", "pickle", "json"])
def test_typed_pairs_of_other_formats_are_refused(kind: str) -> None:
    with pytest.raises(ManifestError, match="lc-json"):
        serde.loads_typed((kind, pickle.dumps(1)))
    assert serde.loads_typed(serde.dumps_typed((1, 2))) == (1, 2)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ManifestError, match="deep"):
        serde.loads(_nested_json(400))
    value: Any = 1
    for _ in range(5000):
        value = (value,)
    with pytest.raises(NotSerializableError, match="deep"):
        serde.dumps(value)


def _nested_json(depth: int) -> bytes:
    return b'{"__rw__":"tuple","v":[' * depth + b"1" + b"]}" * depth


def test_subclasses_of_builtin_types_are_written_as_their_base() -> None:
    class Name(str):
        pass

    class Table(dict):  # type: ignore[type-arg]
        pass

    back = roundtrip({"n": Name("x"), "t": Table(a=1)})
    assert back == {"n": "x", "t": {"a": 1}} and type(back["n"]) is str
