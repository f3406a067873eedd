"""Replay a probe LangChain recorded (tests/tools/*langchain*.py) on a runwire object.

A probe is ``{"attr": name, "output": ...}`` (an attribute read),
``{"call": name, "args": [...], "kwargs": {...}, "output": ...}`` (a method call) or
``{"dump": "langchain", "output": ...}`` (LangChain's ``dumpd`` of the object). Arguments
and outputs are LangChain's ``dumpd`` forms: arguments are loaded with runwire, results
are compared through ``runwire.dumpd(..., dialect="langchain")``.

A call with ``bedrock`` runs with the model's bedrock-runtime client stubbed (botocore's
Stubber) to give the response LangChain got; the request runwire sends must equal the
``request`` LangChain sent (an InvokeModel body compared as JSON; empty parameters, such
as LangChain's ``"system": []`` and ``"inferenceConfig": {}``, mean the same to Bedrock as
absent ones and are dropped), and run ids, which are random, are compared by their form
(``lc_run--<uuid>``) only.
"""

from __future__ import annotations

import asyncio
import functools
import json
import operator
import re
from typing import Any

import pytest

import runwire
from bedrock_stubs import stubbed

KEPT_REQUEST_FIELDS: dict[str, dict[str, str]] = {
    # fixture -> {field of the Bedrock request body: why runwire sends it differently}
    "chat_bedrock_llama": {
        "prompt": "Meta's documented Llama 3 template (a blank line after each header); "
        "langchain-aws leaves the blank lines out",
    },
    "chat_bedrock_mistral": {
        "prompt": "Mistral's own [INST] template starting with <s>; langchain-aws wraps the "
        "system prompt in Llama 2's <<SYS>> tags",
    },
    "chat_bedrock_titan_chat": {
        "inputText": "Titan's documented 'User:/Bot:' turns one newline apart; langchain-aws "
        "puts a blank line between them",
    },
}
"""Request fields where runwire follows the model vendor's documented prompt format
instead of langchain-aws (also listed in docs/providers.md); the rest must be equal."""

KEPT_STOP_REASONS: dict[str, str] = {
    "chat_bedrock_mistral": "Mistral bodies keep the stop reason in outputs[0].stop_reason; "
    "langchain-aws reads a top-level field they lack and reports None",
    "chat_bedrock_titan_chat": "Titan bodies keep it in results[0].completionReason; "
    "langchain-aws reports None",
}
"""Outputs where runwire reports the stop reason the model gave and LangChain None."""

KEPT_STREAM_CHUNKING: dict[str, str] = {
    "chat_bedrock": "ChatBedrock over InvokeModel puts each usage count on the chunk that "
    "brings it (input tokens on the first, output on the stop chunk); langchain-aws adds "
    "one more chunk with the totals. The texts, in order, and the summed message are equal.",
}
"""Streams whose chunk boundaries differ on purpose: their texts and total are compared."""


def _stop_reasons_as(out: Any, want: Any) -> tuple[Any, Any]:
    """LangChain's ``None`` stop reasons (additional_kwargs, response_metadata) taken as
    runwire's; any other difference still fails."""
    if not (isinstance(out, dict) and isinstance(want, dict) and "kwargs" in want):
        return out, want
    want = json.loads(json.dumps(want))
    for part in ("additional_kwargs", "response_metadata"):
        theirs, ours = want["kwargs"].get(part) or {}, out["kwargs"].get(part) or {}
        if theirs.get("stop_reason", "") is None and "stop_reason" in ours:
            theirs["stop_reason"] = ours["stop_reason"]
    return out, want


def _texts(chunks: list[Any]) -> list[Any]:
    return [c["kwargs"]["content"] for c in chunks if c["kwargs"].get("content")]


def probe_label(probe: dict[str, Any]) -> str:
    return str(probe.get("attr") or probe.get("call") or "dump")


def replay(
    name: str, obj: Any, probe: dict[str, Any], *, run_async: bool = False, total: bool = False
) -> None:
    """Fail, naming the fixture and the probe, unless ``obj`` gives LangChain's output.

    With ``run_async`` an ``invoke`` probe runs as ``ainvoke`` (same expected output);
    with ``total`` a ``stream`` probe's chunks are added up and compared with LangChain's
    sum (``"total"``) instead of chunk by chunk.
    """
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
        call = "ainvoke" if run_async and probe["call"] == "invoke" else probe["call"]
        what = f"{name}: {call}(...)"
        args = runwire.load(probe.get("args", []), allowed_objects="all")
        kwargs = runwire.load(probe.get("kwargs", {}), allowed_objects="all")
        found = getattr(obj, call, None)
        assert found is not None, f"{what}: {type(obj).__name__} has no {call}"
        method = (lambda *a, **k: asyncio.run(found(*a, **k))) if call == "ainvoke" else found
        if call == "stream":
            method = lambda *a, **k: list(found(*a, **k))  # noqa: E731 - read the whole stream
        try:
            if "bedrock" in probe:
                got, sent = _with_bedrock(obj, probe["bedrock"], lambda: method(*args, **kwargs))
                want_sent = _request(probe["request"])
                for field in KEPT_REQUEST_FIELDS.get(name, {}):
                    assert field in want_sent["body"], f"{name}: kept field {field} not sent"
                    want_sent["body"][field] = _request(sent)["body"][field]
                diff = first_difference(_request(sent), want_sent)
                assert not diff, f"{what}: the Bedrock request differs at {diff}"
            else:
                got = method(*args, **kwargs)
        except AssertionError:
            raise
        except Exception as exc:
            pytest.fail(f"{what} raised {type(exc).__name__}: {exc}")
    if total:
        got = functools.reduce(operator.add, got)
    out, want = runwire.dumpd(got, dialect="langchain"), probe["total" if total else "output"]
    if "bedrock" in probe:
        out, want = _run_ids(out), _run_ids(want)
    if name in KEPT_STOP_REASONS:
        out, want = _stop_reasons_as(out, want)
    if not total and probe.get("call") == "stream" and name in KEPT_STREAM_CHUNKING:
        out, want = _texts(out), _texts(want)
    diff = first_difference(out, want)
    assert not diff, f"{what} differs at {diff}"


def first_difference(got: Any, want: Any, path: str = "$") -> str:
    """Where two JSON values first differ, as ``path: runwire ... != LangChain ...``."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in [*want, *(k for k in got if k not in want)]:
            if key not in got or key not in want:
                side = "runwire lacks" if key not in got else "LangChain lacks"
                return f"{path}.{key}: {side} it"
            found = first_difference(got[key], want[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(got, list) and isinstance(want, list):
        for index, (g, w) in enumerate(zip(got, want, strict=False)):
            found = first_difference(g, w, f"{path}[{index}]")
            if found:
                return found if len(got) == len(want) else f"{found} ({_lengths(got, want)})"
        return "" if len(got) == len(want) else f"{path}: {_lengths(got, want)}"
    if got == want and type(got) is type(want):
        return ""
    return f"{path}: runwire {_short(got)} != LangChain {_short(want)}"


def _lengths(got: list[Any], want: list[Any]) -> str:
    return f"runwire gives {len(got)} items, LangChain {len(want)}"


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 160 else text[:157] + "..."


_RUN_ID = re.compile(r"^lc_run--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _run_ids(value: Any) -> Any:
    """Run ids (``lc_run--<random uuid>-<n>``) with the uuid replaced by ``<uuid>``."""
    if isinstance(value, dict):
        return {k: _run_ids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_run_ids(v) for v in value]
    if isinstance(value, str):
        return _RUN_ID.sub("lc_run--<uuid>", value)
    return value


def _request(params: dict[str, Any]) -> dict[str, Any]:
    """Request parameters without empty ones (absent and empty mean the same to Bedrock)."""
    out = {k: v for k, v in params.items() if v not in ({}, [])}
    if isinstance(out.get("body"), dict):
        out["body"] = _request(out["body"])
    return out


def _with_bedrock(obj: Any, reply: dict[str, Any], call: Any) -> tuple[Any, dict[str, Any]]:
    """Run ``call`` with a stubbed bedrock-runtime client given to the model (or the
    model a binding wraps); returns (result, request parameters sent)."""
    import boto3

    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    getattr(obj, "bound", obj).client = client
    with stubbed(client, reply) as sent:
        got = call()
    return got, sent
