"""The serialized objects of langchain-core's own unit tests behave the same in runwire.

``fixtures/langchain_suite`` holds every lc object found in langchain-core 1.8.3's
``tests/unit_tests`` load, prompts and messages tests and its prompt and runnable snapshots,
and the serialized models of langchain-aws 1.9.1's unit-test snapshots
(extracted by ``tests/tools/extract_langchain_suite.py``, MIT licensed, see the README
there). Each records whether langchain-core's ``load`` accepts it and, if so, what
LangChain's object did. Every one LangChain loads must load in runwire and give the same
outputs (prompts: formatted output; messages: fields; everything: LangChain's dump);
every one LangChain refuses, runwire refuses too (runwire is never looser). The few that
LangChain loads and runwire refuses on purpose are listed in STRICTER with the reason.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import runwire
from interop_probes import probe_label, replay
from runwire.errors import ManifestError

SUITE = Path(__file__).parent / "fixtures" / "langchain_suite"
NAMES = sorted(p.stem for p in SUITE.glob("*.json"))

STRICTER: dict[str, str] = {
    "load-test_secret_injection-module-1": (
        "a bare secret node: LangChain loads it as None, runwire refuses a secret node "
        "outside a declared secret field (docs/security.md)"
    ),
    "load-test_secret_injection-test_dict_mimicking_lc_constructor_with_secret-1": (
        "a secret node in AIMessage.additional_kwargs: LangChain resolves it to None, runwire "
        "refuses a secret node outside a declared secret field (docs/security.md)"
    ),
}
"""Objects LangChain loads that runwire refuses on purpose, with the reason."""


@cache
def suite(name: str) -> dict[str, Any]:
    return json.loads((SUITE / f"{name}.json").read_text("utf-8"))


LOADED = [n for n in NAMES if suite(n)["langchain_loads"] and n not in STRICTER]
REFUSED = [n for n in NAMES if not suite(n)["langchain_loads"]]


def load(name: str) -> Any:
    fx = suite(name)
    try:
        return runwire.load(fx["data"], allowed_objects="all")
    except Exception as exc:
        pytest.fail(f"{name} ({fx['source']}) does not load: {type(exc).__name__}: {exc}")


def test_the_suite_was_extracted() -> None:
    sources = {suite(n)["source"].split(":")[0] for n in NAMES}
    assert "tests/unit_tests/prompts/__snapshots__/test_chat.ambr" in sources
    assert "tests/unit_tests/load/test_serializable.py" in sources
    assert "tests/unit_tests/messages/test_ai.py" in sources
    assert "langchain-aws/tests/unit_tests/__snapshots__/test_standard.ambr" in sources
    assert len(LOADED) >= 15
    assert set(STRICTER) <= set(NAMES), "a STRICTER entry names no fixture"
    assert (SUITE / "README.md").is_file()


@pytest.mark.parametrize("name", LOADED)
def test_langchain_suite_object_loads(name: str) -> None:
    load(name)


def _probes(calls: set[str] | None = None) -> list[Any]:
    return [
        pytest.param(name, i, id=f"{name}-{i}-{probe_label(p)}")
        for name in LOADED
        for i, p in enumerate(suite(name)["probes"])
        if calls is None or p.get("call") in calls
    ]


@pytest.mark.parametrize(("name", "index"), _probes())
def test_langchain_suite_object_behaves_the_same(name: str, index: int) -> None:
    replay(name, load(name), suite(name)["probes"][index])


@pytest.mark.parametrize(("name", "index"), _probes(calls={"invoke"}))
def test_langchain_suite_object_behaves_the_same_async(name: str, index: int) -> None:
    replay(name, load(name), suite(name)["probes"][index], run_async=True)


@pytest.mark.parametrize("name", sorted(STRICTER))
def test_runwire_refuses_what_it_refuses_on_purpose(name: str) -> None:
    with pytest.raises(ManifestError):
        runwire.load(suite(name)["data"], allowed_objects="all")


@pytest.mark.parametrize("name", REFUSED)
def test_what_langchain_refuses_runwire_refuses(name: str) -> None:
    fx = suite(name)
    try:
        obj = runwire.load(fx["data"], allowed_objects="all")
    except ManifestError:
        return
    pytest.fail(
        f"{name} ({fx['source']}): LangChain refuses it ({fx['langchain_error']}) but runwire "
        f"loads it as {type(obj).__name__}"
    )
