"""Property tests: whatever JSON comes in, the loader returns data and registered objects, or
raises a ManifestError; nothing else escapes. Also: ``dumps`` equals JSON of ``dumpd``."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runwire
from runwire.errors import ManifestError
from runwire.loader.registry import allowed_ids, class_for
from runwire.schema.ids import id_table
from runwire.schema.serializable import Serializable


def importable_classes() -> dict[tuple[str, ...], type[Serializable]]:
    """Id -> class for every registered id whose class imports.

    A class that fails to import is reported by test_roundtrip, not by a collection error here.
    """
    allowed_ids("all")
    found = {}
    for ident, entry in id_table.by_id.items():
        try:
            found[ident] = class_for(entry)
        except Exception:
            continue
    return found


CLASSES = importable_classes()
REAL_IDS = sorted(list(ident) for ident in CLASSES)
FIELDS = sorted({name for cls in CLASSES.values() for name in cls.model_fields})
SECRET_NAMES = ["OPENAI_API_KEY", "API_KEY", "TOKEN", "RUNWIRE_FUZZ_UNSET"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
keys = st.sampled_from(["lc", "type", "id", "kwargs", "content", "__lc_escaped__"]) | st.text(
    max_size=8
)
node_ids = (
    st.sampled_from(REAL_IDS)
    | st.lists(st.text(max_size=10), max_size=4)
    | st.lists(
        st.sampled_from(["runwire", "langchain", "messages", "AIMesage", "os", "system"]),
        min_size=1,
        max_size=4,
    )
)


def valid_node(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A constructor node of a real class with its required fields: it usually loads."""

    def for_id(ident: list[str]) -> st.SearchStrategy[Any]:
        fields = CLASSES[tuple(ident)].model_fields
        required = {n: st.text(max_size=10) for n, f in fields.items() if f.is_required()}
        optional: dict[str, Any] = {
            n: st.dictionaries(st.text(max_size=6), children, max_size=3)
            for n in ("additional_kwargs", "response_metadata", "metadata")
            if n in fields
        }
        optional["id"] = st.none() | st.text(max_size=6) | st.integers(0, 99)
        kwargs = st.fixed_dictionaries(required, optional=optional)
        return st.fixed_dictionaries(
            {
                "lc": st.just(1),
                "type": st.just("constructor"),
                "id": st.just(ident),
                "kwargs": kwargs,
            }
        )

    return st.sampled_from(REAL_IDS).flatmap(for_id)


def with_nodes(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Containers, lc-shaped nodes and escapes whose values are ``children``."""
    kwargs = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=5)
    constructor = st.fixed_dictionaries(
        {"lc": st.just(1), "type": st.just("constructor"), "id": node_ids | children},
        optional={"kwargs": kwargs | children},
    )
    secret_node = st.fixed_dictionaries(
        {
            "lc": st.just(1),
            "type": st.just("secret"),
            "id": st.lists(st.sampled_from(SECRET_NAMES), max_size=2) | children,
        }
    )
    not_impl = st.fixed_dictionaries(
        {"lc": st.just(1), "type": st.just("not_implemented"), "id": node_ids | children},
        optional={"repr": st.none() | st.text(max_size=10)},
    )
    escaped = st.builds(lambda v: {"__lc_escaped__": v}, children)
    plain = st.dictionaries(keys, children, max_size=4).filter(
        lambda d: not (d.get("lc") == 1 and d.get("type") == "not_implemented")
    )
    return (
        st.lists(children, max_size=4)
        | plain
        | valid_node(children)
        | constructor
        | secret_node
        | not_impl
        | escaped
    )


json_values = st.recursive(scalars, with_nodes, max_leaves=25)

messages = st.builds(
    lambda content, kw: runwire.HumanMessage(content, additional_kwargs=kw),
    st.text(max_size=10),
    st.dictionaries(st.text(max_size=6), json_values, max_size=3),
)


def check_loaded(value: Any) -> None:
    """JSON-ish data all the way down, or an instance of a registered class."""
    if isinstance(value, Serializable):
        assert type(value) in {entry.cls for entry in id_table.entries}, type(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            check_loaded(item)
    elif isinstance(value, list):
        for item in value:
            check_loaded(item)
    else:
        assert value is None or type(value) in (bool, int, float, str), type(value)


def load_or_manifest_error(value: Any, **options: Any) -> Any:
    try:
        loaded = runwire.load(value, allowed_objects="all", **options)
    except ManifestError as err:
        assert str(err).startswith(("$", "<string>"))
        return None
    check_loaded(loaded)
    return loaded


@FUZZ
@given(json_values, st.booleans(), st.booleans())
def test_load_returns_data_or_raises_manifest_error(
    value: Any, ignore: bool, from_env: bool
) -> None:
    load_or_manifest_error(
        value,
        ignore_unserializable_fields=ignore,
        secrets_from_env=from_env,
        secrets_map={"TOKEN": "fuzz-token"},
    )


@FUZZ
@given(json_values)
def test_loads_of_the_text_behaves_like_load(value: Any) -> None:
    text = json.dumps(value)
    try:
        from_text = runwire.loads(text, allowed_objects="all")
    except ManifestError:
        return
    check_loaded(from_text)
    assert from_text == runwire.load(json.loads(text), allowed_objects="all")


@FUZZ
@given(st.binary(max_size=40) | st.text(max_size=40))
def test_loads_of_arbitrary_text(text: bytes | str) -> None:
    with contextlib.suppress(ManifestError):
        check_loaded(runwire.loads(text, allowed_objects="all"))


@FUZZ
@given(messages, st.sampled_from(["runwire", "langchain"]), st.booleans(), st.booleans())
def test_dumps_matches_dumpd_and_round_trips(
    msg: Any, dialect: str, pretty: bool, sort_keys: bool
) -> None:
    """``dumps`` (which may take a fast path) writes exactly the JSON of ``dumpd``."""
    text = runwire.dumps(msg, dialect=dialect, pretty=pretty, sort_keys=sort_keys)
    option = orjson.OPT_NON_STR_KEYS
    option |= (orjson.OPT_INDENT_2 if pretty else 0) | (orjson.OPT_SORT_KEYS if sort_keys else 0)
    assert text == orjson.dumps(runwire.dumpd(msg, dialect=dialect), option=option).decode()
    back = runwire.loads(text)
    assert back == msg
    assert runwire.dumps(back, dialect=dialect, pretty=pretty, sort_keys=sort_keys) == text
