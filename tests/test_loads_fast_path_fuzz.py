"""Differential fuzz of the ``loads`` fast path against the walker (issue 22).

For random and hostile documents (stray ``"lc"`` keys, escapes, nodes and secrets in
data, ``\\u`` spellings, jinja2, deep nesting, wrong types, unknown ids), ``loads`` (fast
path first) and the walker alone return equal objects (same repr, so the same key order)
or raise the same error class with the same JSON path. Derandomized: the same examples
every run.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import runwire
from runwire.errors import ManifestError
from runwire.loader import fast_load, wire
from runwire.loader.fast_load import FALLBACK, load_fast, text_allows
from runwire.loader.limits import Limits, parse_json

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TEXT = st.text(alphabet=st.sampled_from('ab lc"\\[]{}_é\n'), max_size=8)
PLAIN_KEYS = ["type", "id", "kwargs", "text", "name", "args", "k", "v", "w", "x", "y", "z"]
KEYS = st.one_of(st.sampled_from([*PLAIN_KEYS, "lc", "__lc_escaped__"]), TEXT)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)


def _json(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3))


DATA = st.recursive(SCALARS, _json, max_leaves=6)

MESSAGES = [
    "HumanMessage",
    "AIMessage",
    "SystemMessage",
    "ToolMessage",
    "ChatMessage",
    "FunctionMessage",
    "AIMessageChunk",
    "RemoveMessage",
    "NoSuchMessage",
]


def node(ident: list[str], kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ident, "kwargs": kwargs}


SECRET = st.just({"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]})
ESCAPED = st.builds(lambda d: {"__lc_escaped__": d}, DATA)
HOSTILE = st.one_of(
    SECRET, ESCAPED, st.builds(lambda t: node(["runwire", "x", "Y"], {"t": t}), TEXT)
)
VALUES = st.one_of(DATA, DATA, DATA, DATA, DATA, HOSTILE)  # mostly data: the fast path gets a share

TOOL_CALL = st.fixed_dictionaries(
    {"name": TEXT, "args": st.dictionaries(TEXT, SCALARS, max_size=2), "id": st.none() | TEXT},
    optional={"type": st.just("tool_call"), "extra": SCALARS},
)
BLOCKS = st.lists(st.one_of(TEXT, st.dictionaries(KEYS, SCALARS, max_size=2)), max_size=3)
CONTENT = st.one_of(TEXT, BLOCKS, TEXT, BLOCKS, VALUES)
DOCUMENT = st.builds(
    lambda text, meta: node(
        ["runwire", "documents", "Document"], {"page_content": text, "metadata": meta}
    ),
    st.one_of(TEXT, SCALARS),
    st.dictionaries(KEYS, VALUES, max_size=2),
)
MESSAGE_KWARGS = st.fixed_dictionaries(
    {"content": CONTENT},
    optional={
        "id": st.none() | TEXT | st.integers(0, 9),
        "name": st.none() | TEXT,
        "additional_kwargs": st.dictionaries(KEYS, VALUES, max_size=3),
        "response_metadata": st.dictionaries(KEYS, DATA, max_size=2),
        "tool_calls": st.one_of(st.lists(TOOL_CALL, max_size=2), st.lists(TOOL_CALL), VALUES),
        "usage_metadata": st.fixed_dictionaries(
            {"input_tokens": st.integers(0, 9), "output_tokens": st.integers(0, 9)},
            optional={"total_tokens": st.integers(0, 9)},
        ),
        "tool_call_id": st.one_of(TEXT, TEXT, st.integers(0, 9), st.floats(0, 1)),
        "role": TEXT,
        "status": st.sampled_from(["success", "error", "bogus"]),
        "artifact": st.one_of(VALUES, DOCUMENT, st.lists(DOCUMENT, max_size=2)),
        "extra_key": VALUES,
    },
)
MESSAGE = st.builds(
    lambda name, kwargs: node(["runwire", "messages", name], kwargs),
    st.sampled_from(MESSAGES),
    MESSAGE_KWARGS,
)
PROMPT = st.builds(
    lambda template, fmt: node(
        ["runwire", "prompts", "PromptTemplate"],
        {"template": template, "input_variables": [], "template_format": fmt},
    ),
    st.sampled_from(["hi", "{x}", "{{ x }}", "{"]),
    st.sampled_from(["f-string", "jinja2", "mustache"]),
)
LEAVES = st.one_of(MESSAGE, DOCUMENT, PROMPT)


def _compose(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(
            lambda a, b: node(
                ["runwire", "runnables", "RunnableSequence"], {"first": a, "last": b}
            ),
            children,
            children,
        ),
        st.builds(
            lambda steps: node(["runwire", "runnables", "RunnableParallel"], {"steps__": steps}),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), children, min_size=1, max_size=3),
        ),
        st.lists(children, max_size=4),
    )


DOCUMENTS = st.recursive(LEAVES, _compose, max_leaves=6)


def render(data: Any, style: str) -> str:
    if style == "orjson":
        return orjson.dumps(data).decode()
    text = json.dumps(data, ensure_ascii=style == "ascii")
    if style == "lc-escaped":
        text = text.replace('"lc"', '"\\u006cc"')
    return text


def outcome(load: Any) -> tuple[Any, ...]:
    try:
        value = load()
    except ManifestError as exc:
        return ("error", type(exc), exc.path)
    return ("ok", value, repr(value))


def same(fast: tuple[Any, ...], slow: tuple[Any, ...]) -> bool:
    if fast[0] == "error" or slow[0] == "error":
        return fast == slow
    return type(fast[1]) is type(slow[1]) and fast[1] == slow[1] and fast[2] == slow[2]


@FUZZ
@given(
    DOCUMENTS,
    st.sampled_from(["orjson", "ascii", "utf8", "lc-escaped"]),
    st.sampled_from([None, 4, 8]),
)
def test_fast_path_and_walker_agree(data: Any, style: str, depth: int | None) -> None:
    text = render(data, style)
    limits = Limits(max_depth=depth) if depth else None
    fast = load_fast(parse_json(text, limits=limits), text, limits=limits)
    event("fast path" if fast is not FALLBACK else "walker")
    loaded = outcome(lambda: runwire.loads(text, limits=limits))
    walked = outcome(lambda: wire.load(parse_json(text, limits=limits), limits=limits))
    assert same(loaded, walked), (text, loaded[:2], walked[:2])
    if fast is not FALLBACK:
        assert same(("ok", fast, repr(fast)), walked), text
    batched = load_batched(text, limits)  # every list's nodes validated class by class
    assert (batched is FALLBACK) == (fast is FALLBACK), text
    if batched is not FALLBACK:
        assert same(("ok", batched, repr(batched)), walked), text


def load_batched(text: str, limits: Limits | None) -> Any:
    """``load_fast`` with even short lists validated class by class in one call."""
    saved = fast_load._BATCH
    fast_load._BATCH = 1
    try:
        return load_fast(parse_json(text, limits=limits), text, limits=limits)
    finally:
        fast_load._BATCH = saved


PLAIN = st.text(alphabet=st.sampled_from("ab [{é\n"), max_size=8)
PLAIN_DATA = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-9, 9), PLAIN),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(PLAIN, c, max_size=3)),
    max_leaves=6,
)
PLAIN_MESSAGE = st.builds(
    lambda name, content, extra: node(
        ["runwire", "messages", name], {"content": content, "additional_kwargs": extra}
    ),
    st.sampled_from(["HumanMessage", "AIMessage", "SystemMessage"]),
    st.one_of(PLAIN, st.lists(st.one_of(PLAIN, st.dictionaries(PLAIN, PLAIN_DATA, max_size=2)))),
    st.dictionaries(PLAIN, PLAIN_DATA, max_size=3),
)


@settings(FUZZ, max_examples=60)
@given(st.lists(PLAIN_MESSAGE, max_size=4), st.sampled_from(["orjson", "ascii", "utf8"]))
def test_plain_histories_always_take_the_fast_path(data: Any, style: str) -> None:
    text = render(data, style)
    fast = load_fast(parse_json(text), text)
    assert fast is not FALLBACK, text
    walked = wire.load(parse_json(text))
    assert fast == walked
    assert repr(fast) == repr(walked)
    batched = load_batched(text, None)
    assert batched == walked
    assert repr(batched) == repr(walked)


def height(value: Any) -> int:
    """Containers nested in ``value`` at its deepest (a scalar: 0)."""
    if isinstance(value, list):
        return 1 + max(map(height, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(height, value.values()), default=0)
    return 0


BRACKETY = st.text(alphabet=st.sampled_from('[]{}"\\ a'), max_size=4)
NESTED = st.recursive(
    st.one_of(st.none(), st.integers(0, 9), BRACKETY),
    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(BRACKETY, c, max_size=3)),
    max_leaves=12,
)


@FUZZ
@given(NESTED, st.integers(1, 8), st.sampled_from(["orjson", "ascii", "utf8"]))
def test_the_text_depth_proof_is_exact(data: Any, limit: int, style: str) -> None:
    raw = render(data, style).encode()
    assert text_allows(raw, Limits(max_depth=limit)) == (height(data) <= limit), raw
