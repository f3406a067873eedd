"""Files real LangChain wrote load in runwire, run with LangChain's outputs and dump back.

The fixtures under ``fixtures/langchain/generated`` were written by langchain-core and
langchain-aws themselves (``tests/tools/write_langchain_fixtures.py``, run by hand):
each holds the exact text ``langchain_core.load.dumps`` wrote, which LangChain's own
``loads`` reads back, and the outputs LangChain's loaded object gave for some calls.
``mapping.json`` lists every id of LangChain's load mapping tables and of langchain-aws's
serializable classes; each must load in runwire or be listed, with its reason, in
docs/wire-format.md. LangChain itself is not imported here.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import runwire
from interop_probes import first_difference, probe_label, replay
from runwire.errors import ManifestError
from runwire.loader.registry import class_for, lookup

ROOT = Path(__file__).resolve().parents[1]
GENERATED = Path(__file__).parent / "fixtures" / "langchain" / "generated"
CASES = sorted(p.stem for p in (GENERATED / "cases").glob("*.json"))
MAPPING: list[dict[str, Any]] = json.loads((GENERATED / "mapping.json").read_text("utf-8"))
DOC = ROOT / "docs" / "wire-format.md"
NOT_LOADED_HEADING = "## LangChain classes runwire does not load"
ALIASED = {
    # legacy langchain's OpenAIToolAgentAction is ToolAgentAction under an older name
    # (same fields); neither is in langchain-core, runwire loads both ids as one class
    "langchain.schema.agent.OpenAIToolAgentAction": "ToolAgentAction",
}
"""LangChain ids runwire loads as another class than LangChain's mapping names."""


@cache
def fixture(name: str) -> dict[str, Any]:
    return json.loads((GENERATED / "cases" / f"{name}.json").read_text("utf-8"))


def load_fixture(name: str) -> Any:
    fx = fixture(name)
    try:
        return runwire.loads(fx["text"], allowed_objects="all", secrets_map=fx["secrets_map"])
    except Exception as exc:
        pytest.fail(f"{name} ({fx['class_path']}) does not load: {type(exc).__name__}: {exc}")


def python_json(text: str) -> str:
    """JSON text spelled as ``json.dumps`` (which LangChain uses) spells it.

    Only spelling changes: separators, ``\\uXXXX`` escapes of non-ASCII text and float
    notation. Key order, types and values are kept, so two texts spell the same here
    exactly when they are the same document.
    """
    return json.dumps(json.loads(text))


def test_there_are_fixtures_of_every_kind() -> None:
    classes = {fixture(n)["class_path"].rsplit(".", 1)[-1] for n in CASES}
    assert len(CASES) >= 60
    assert {"AIMessage", "PromptTemplate", "RunnableSequence", "ChatBedrockConverse"} <= classes
    assert {"ChatBedrock", "BedrockLLM", "ChatPromptTemplate", "RunnableParallel"} <= classes


@pytest.mark.parametrize("name", CASES)
def test_langchain_file_loads(name: str) -> None:
    obj = load_fixture(name)
    want = fixture(name)["class_path"].rsplit(".", 1)[-1]
    node = json.loads(fixture(name)["text"])
    entry = lookup(node["id"])
    assert entry is not None, f"{name}: id {node['id']} is not in runwire's id table"
    assert isinstance(obj, runwire.Serializable), f"{name}: loaded {type(obj).__name__}"
    assert want in {entry.name, type(obj).__name__} or node["id"][-1] == want, name


@pytest.mark.parametrize("name", CASES)
def test_langchain_file_dumps_back_identically(name: str) -> None:
    """``dumps(..., dialect="langchain")`` writes LangChain's text back.

    runwire writes compact JSON (orjson) and LangChain ``json.dumps``'s spacing, so the
    comparison respells runwire's text the way ``json.dumps`` does; it must then equal
    LangChain's text byte for byte (same keys, same order, same values).
    """
    obj = load_fixture(name)
    text = fixture(name)["text"]
    out = runwire.dumps(obj, dialect="langchain")
    if python_json(out) != text:
        where = first_difference(json.loads(out), json.loads(text)) or _order_difference(out, text)
        pytest.fail(f"{name}: the langchain dialect differs from LangChain's text: {where}")
    assert python_json(runwire.dumps(obj, dialect="langchain", pretty=True)) == text


@pytest.mark.parametrize("name", CASES)
def test_runwire_dialect_keeps_the_langchain_file(name: str) -> None:
    """Through runwire's own dialect and back, the object still writes LangChain's text."""
    fx = fixture(name)
    own = runwire.dumps(load_fixture(name))
    again = runwire.loads(own, allowed_objects="all", secrets_map=fx["secrets_map"])
    assert python_json(runwire.dumps(again, dialect="langchain")) == fx["text"], name


@pytest.mark.parametrize("name", CASES)
def test_langchain_loads_what_runwire_writes(name: str) -> None:
    """Both ways: LangChain (when installed) loads runwire's output and writes its own text."""
    lc = pytest.importorskip("langchain_core.load")
    fx = fixture(name)
    if '"langchain_aws"' in fx["text"] or "bedrock" in fx["text"]:
        pytest.importorskip("langchain_aws")  # LangChain imports it to build these classes
    out = runwire.dumps(load_fixture(name), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loads is "beta"; some classes are deprecated
        back = lc.loads(out, secrets_map=fx["secrets_map"], allowed_objects="all")
    assert lc.dumps(back) == fx["text"], f"{name}: LangChain reads runwire's file differently"


def _order_difference(out: str, text: str) -> str:
    """The first node whose keys LangChain writes in another order."""

    def orders(value: Any, path: str) -> list[tuple[str, list[str]]]:
        found: list[tuple[str, list[str]]] = []
        if isinstance(value, dict):
            found.append((path, list(value)))
            for key, item in value.items():
                found += orders(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found += orders(item, f"{path}[{index}]")
        return found

    for (path, got), (_, want) in zip(
        orders(json.loads(out), "$"), orders(json.loads(text), "$"), strict=False
    ):
        if got != want:
            return f"key order at {path}: runwire {got} != LangChain {want}"
    return "spelling only"


def _probe_ids(calls: set[str] | None = None) -> list[Any]:
    params = []
    for name in CASES:
        for index, probe in enumerate(fixture(name)["probes"]):
            if calls is not None and probe.get("call") not in calls:
                continue
            label = f"{name}-{index}-{probe_label(probe)}"
            params.append(pytest.param(name, index, id=label))
    return params


@pytest.mark.parametrize(("name", "index"), _probe_ids())
def test_langchain_file_runs_with_langchain_outputs(name: str, index: int) -> None:
    replay(name, load_fixture(name), fixture(name)["probes"][index])


@pytest.mark.parametrize(("name", "index"), _probe_ids(calls={"stream"}))
def test_langchain_file_streams_to_langchain_total(name: str, index: int) -> None:
    """The streamed chunks add up to LangChain's (chunk boundaries are checked above)."""
    replay(name, load_fixture(name), fixture(name)["probes"][index], total=True)


@pytest.mark.parametrize(("name", "index"), _probe_ids(calls={"invoke"}))
def test_langchain_file_runs_async_with_langchain_outputs(name: str, index: int) -> None:
    replay(name, load_fixture(name), fixture(name)["probes"][index], run_async=True)


# files LangChain writes but cannot load itself ----------------------------------------

REFUSED = sorted(p.stem for p in (GENERATED / "refused").glob("*.json"))
RUNWIRE_REFUSES = {
    "prompt_template_jinja2": "jinja2 can run code: refused unless allowed, as in LangChain",
    "few_shot_prompt_template": "LangChain writes it as not_implemented",
    "chat_bedrock_converse_structured_output": (
        "LangChain writes langchain-aws's structured-output parser as not_implemented; "
        "runwire writes with_structured_output in its own dialect"
    ),
    "runnable_with_message_history": (
        "LangChain writes the session factory, a Python function, as not_implemented; "
        "runwire's RunnableWithMessageHistory takes a serializable history store"
    ),
}
"""Files LangChain writes and cannot load that runwire refuses too, with the reason."""


EXCEPTION_FIELDS = frozenset({"exceptions_to_handle", "retry_exception_types"})


def exception_names(value: Any, key: str = "") -> Any:
    """LangChain's ``not_implemented`` nodes of builtin exception classes as their names.

    Neither form loads in LangChain; runwire writes the names, which it reads back, in
    both dialects (docs/runtime.md), so the comparison reads LangChain's form as names.
    """
    if isinstance(value, dict):
        if key in EXCEPTION_FIELDS and value.get("type") == "not_implemented":
            return value["id"][-1] if value["id"][0] == "builtins" else value
        return {k: exception_names(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [exception_names(v, key) for v in value]
    return value


@cache
def refused(name: str) -> dict[str, Any]:
    return json.loads((GENERATED / "refused" / f"{name}.json").read_text("utf-8"))


def test_refusals_are_listed_for_real_files() -> None:
    assert set(RUNWIRE_REFUSES) <= set(REFUSED)
    assert {"runnable_with_fallbacks", "runnable_retry", "runnable_branch"} <= set(REFUSED)


@pytest.mark.parametrize("name", REFUSED)
def test_file_langchain_cannot_load(name: str) -> None:
    """runwire refuses what it lists; everything else it loads, runs and writes back."""
    fx = refused(name)
    if name in RUNWIRE_REFUSES:
        with pytest.raises(ManifestError):
            runwire.loads(fx["text"], allowed_objects="all", secrets_map=fx["secrets_map"])
        return
    try:
        obj = runwire.loads(fx["text"], allowed_objects="all", secrets_map=fx["secrets_map"])
    except ManifestError as exc:
        pytest.fail(f"{name}: runwire refuses it ({exc}); LangChain: {fx['langchain_error']}")
    out = runwire.dumps(obj, dialect="langchain")
    where = first_difference(json.loads(out), exception_names(json.loads(fx["text"])))
    assert not where, f"{name}: the langchain dialect differs from LangChain's text: {where}"
    for probe in fx["probes"]:
        replay(name, obj, probe)


# coverage: every id LangChain maps loads in runwire, or the doc says why not ----------


@cache
def not_loaded_table() -> dict[str, str]:
    """Class path -> reason, from the table under NOT_LOADED_HEADING in wire-format.md."""
    text = DOC.read_text("utf-8")
    assert NOT_LOADED_HEADING in text, f"{DOC.name} lacks the section {NOT_LOADED_HEADING!r}"
    section = text.split(NOT_LOADED_HEADING, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        match = re.fullmatch(r"\|\s*`([\w.]+)`\s*\|\s*(.+?)\s*\|", line.strip())
        if match:
            rows[match[1]] = match[2]
    assert rows, "the table of classes runwire does not load is empty or malformed"
    return rows


def _mapping_ids() -> list[Any]:
    return [pytest.param(row, id=f"{row['table']}:{'.'.join(row['id'])}") for row in MAPPING]


def test_mapping_table_covers_langchain() -> None:
    tables = {row["table"] for row in MAPPING}
    assert {"SERIALIZABLE_MAPPING", "OLD_CORE_NAMESPACES_MAPPING", "langchain_aws"} <= tables
    assert {"_OG_SERIALIZABLE_MAPPING", "_JS_SERIALIZABLE_MAPPING"} <= tables
    assert len(MAPPING) >= 180


@pytest.mark.parametrize("row", _mapping_ids())
def test_every_langchain_id_loads_or_is_documented(row: dict[str, Any]) -> None:
    ident = row["id"]
    entry = lookup(ident)
    if entry is not None:
        want = ALIASED.get(".".join(ident), row["class_path"].rsplit(".", 1)[-1])
        assert entry.name == want, f"{'.'.join(ident)} loads as {entry.name}, LangChain's {want}"
        assert issubclass(class_for(entry), runwire.Serializable), f"{entry.name} is no class"
        return
    reason = not_loaded_table().get(row["class_path"])
    assert reason, (
        f"{'.'.join(ident)} ({row['class_path']}, {row['status']}) neither loads in runwire "
        f"nor is listed under {NOT_LOADED_HEADING!r} in docs/wire-format.md"
    )


def test_every_concrete_langchain_class_has_a_file() -> None:
    """The generator wrote a file of every class LangChain can build, unless runwire lists
    the class as one it does not load (a fixture of it could only fail)."""
    written = {fixture(n)["class_path"] for n in CASES} | {
        refused(n)["class_path"] for n in REFUSED
    }
    missing = sorted(
        row["class_path"]
        for row in MAPPING
        if row["status"] == "class"
        and row["resolved"] not in written
        and row["class_path"] not in not_loaded_table()
    )
    assert not missing, f"add cases to tests/tools/langchain_cases*.py for {missing}"


def test_documented_classes_really_do_not_load() -> None:
    """The doc's table lists only classes LangChain maps and runwire loads under no id."""
    by_path: dict[str, list[list[str]]] = {}
    for row in MAPPING:
        by_path.setdefault(row["class_path"], []).append(row["id"])
    stale = sorted(set(not_loaded_table()) - set(by_path))
    assert not stale, f"docs/wire-format.md lists classes LangChain does not map: {stale}"
    loading = sorted(
        path
        for path in not_loaded_table()
        if any(lookup(ident) is not None for ident in by_path[path])
    )
    assert not loading, f"these load in runwire now; drop them from the doc table: {loading}"
