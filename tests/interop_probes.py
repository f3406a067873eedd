"""Replay a probe LangChain recorded (tests/tools/*langchain*.py) on a runwire object.

A probe is ``{"attr": name, "output": ...}`` (an attribute read),
``{"call": name, "args": [...], "kwargs": {...}, "output": ...}`` (a method call) or
``{"dump": "langchain", "output": ...}`` (LangChain's ``dumpd`` of the object). Arguments
and outputs are LangChain's ``dumpd`` forms: arguments are loaded with runwire, results
are compared through ``runwire.dumpd(..., dialect="langchain")``.
"""

from __future__ import annotations

from typing import Any

import pytest

import runwire


def probe_label(probe: dict[str, Any]) -> str:
    return str(probe.get("attr") or probe.get("call") or "dump")


def replay(name: str, obj: Any, probe: dict[str, Any]) -> None:
    """Fail, naming the fixture and the probe, unless ``obj`` gives LangChain's output."""
    if "dump" in probe:
        what = f"{name}: dumpd(obj, dialect='langchain')"
        got = obj
    elif "attr" in probe:
        what = f"{name}: attribute {probe['attr']!r}"
        try:
            got = getattr(obj, probe["attr"])
        except AttributeError as exc:
            pytest.fail(f"{what} is missing: {exc}")
    else:
        what = f"{name}: {probe['call']}(...)"
        args = runwire.load(probe.get("args", []), allowed_objects="all")
        kwargs = runwire.load(probe.get("kwargs", {}), allowed_objects="all")
        method = getattr(obj, probe["call"], None)
        assert method is not None, f"{what}: {type(obj).__name__} has no {probe['call']}"
        try:
            got = method(*args, **kwargs)
        except Exception as exc:
            pytest.fail(f"{what} raised {type(exc).__name__}: {exc}")
    assert runwire.dumpd(got, dialect="langchain") == probe["output"], f"{what} differs"
