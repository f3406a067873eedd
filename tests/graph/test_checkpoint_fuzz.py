"""Property tests of the checkpoint serde: state round-trips; stored bytes never build a
stranger, and fail only as a ManifestError."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runwire import AIMessage, Document, HumanMessage, ManifestError
from runwire.graph.checkpoint import LcJsonSerializer, StoredError

serde = LcJsonSerializer()
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
KEYS = st.sampled_from(
    ["lc", "__rw__", "__lc_escaped__", "type", "id", "kwargs", "v", "name", "constructor", "a"]
) | st.text(max_size=5)

hashables = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.uuids()
    | st.datetimes(timezones=st.just(UTC) | st.none())
    | st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=5))
)
state = st.recursive(
    hashables,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.frozensets(hashables, max_size=3)
        | st.dictionaries(KEYS, inner, max_size=4)
        | st.dictionaries(st.integers(-3, 3), inner, max_size=2)
    ),
    max_leaves=20,
)


@FUZZ
@given(state)
def test_any_state_value_round_trips_to_an_equal_value(value: Any) -> None:
    back = serde.loads(serde.dumps(value))
    assert back == value
    assert type(back) is type(value)


plain_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=15,
)


@FUZZ
@given(st.dictionaries(KEYS, plain_json, max_size=4))
def test_user_data_inside_messages_and_documents_round_trips(data: dict[str, Any]) -> None:
    value = [
        HumanMessage(content="x", additional_kwargs=data),
        AIMessage(content="", tool_calls=[{"name": "t", "args": data, "id": "c"}]),
        Document(page_content="p", metadata=data),
    ]
    assert serde.loads(serde.dumps(value)) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(KEYS, inner, max_size=4)
        | st.fixed_dictionaries(
            {
                "lc": st.just(1),
                "type": st.sampled_from(["constructor", "secret", "not_implemented"]),
                "id": st.sampled_from(
                    [
                        ["runwire", "messages", "HumanMessage"],
                        ["runwire", "prompts", "PromptTemplate"],
                        ["os", "system"],
                        ["AWS_SECRET_ACCESS_KEY"],
                    ]
                ),
                "kwargs": st.dictionaries(KEYS, inner, max_size=3),
            }
        )
        | st.fixed_dictionaries(
            {
                "__rw__": st.sampled_from(
                    ["tuple", "set", "dict", "model", "enum", "graph", "error", "bytes", "x"]
                ),
                "v": inner,
                "name": st.sampled_from(["Send", "os.system", "ValueError", "Point"]),
            }
        )
    ),
    max_leaves=15,
)
ALLOWED = (str, int, float, bool, type(None), list, dict, tuple, set, frozenset, bytes)
BUILT = (HumanMessage, ValueError, StoredError, uuid.UUID, datetime)
try:  # the graph's own values, when the engine is there
    from runwire.graph.messages import RemoveMessage
    from runwire.graph.types import Command, Interrupt, Send

    BUILT = (*BUILT, Send, Interrupt, Command, RemoveMessage)  # type: ignore[assignment]
except ImportError:  # pragma: no cover
    pass


def built_objects(value: Any) -> list[Any]:
    """Every value in ``value`` that is not plain data."""
    found = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif not isinstance(item, ALLOWED):
            found.append(item)
    return found


@FUZZ
@given(json_values)
def test_any_stored_json_reads_back_as_data_and_messages_or_a_manifest_error(value: Any) -> None:
    try:
        back = serde.loads(orjson.dumps(value))
    except ManifestError:
        return
    for obj in built_objects(back):
        assert isinstance(obj, BUILT), obj
