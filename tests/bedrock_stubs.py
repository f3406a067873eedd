"""A bedrock-runtime client answering a recorded reply, for the interop fixtures.

Shared by the fixture generator (which stubs LangChain's client) and the interop tests
(which stub runwire's): botocore's Stubber answers the operation, and the request
parameters sent are captured. A reply is ``{"operation": ...}`` plus

- ``converse``: ``"response"``, the Converse response;
- ``invoke_model``: ``"body"`` (JSON) and ``"headers"``;
- ``converse_stream``: ``"events"``, the stream's events;
- ``invoke_model_with_response_stream``: ``"chunks"``, the JSON of each chunk.

Only botocore is imported, so LangChain's side and runwire's side use the same code.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterator
from typing import Any

_STREAM_EVENTS = {
    "converse_stream": ("ConverseStream", "stream"),
    "invoke_model_with_response_stream": ("InvokeModelWithResponseStream", "body"),
}


def _response(reply: dict[str, Any]) -> dict[str, Any]:
    from botocore.response import StreamingBody

    operation = reply["operation"]
    if operation == "converse":
        return copy.deepcopy(reply["response"])  # parsers may change it in place
    if operation == "invoke_model":
        raw = json.dumps(reply["body"]).encode()
        return {
            "body": StreamingBody(io.BytesIO(raw), len(raw)),
            "contentType": "application/json",
            "ResponseMetadata": {"HTTPHeaders": reply["headers"]},
        }
    if operation == "invoke_model_with_response_stream":  # chunks put in after the call
        return {"body": {}, "contentType": "application/json"}
    return {}  # converse_stream: its events are put in after the call (see _events)


def _events(reply: dict[str, Any]) -> list[dict[str, Any]]:
    if reply["operation"] == "converse_stream":
        return copy.deepcopy(reply["events"])
    return [{"chunk": {"bytes": json.dumps(c).encode()}} for c in reply["chunks"]]


@contextlib.contextmanager
def stubbed(client: Any, reply: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Within the block ``client`` answers ``reply`` once; yields the request sent.

    An InvokeModel body in the request is given as parsed JSON.
    """
    from botocore.stub import Stubber

    sent: dict[str, Any] = {}
    events = client.meta.events
    hooks = [("provide-client-params.bedrock-runtime.*", lambda params, **_: sent.update(params))]
    if reply["operation"] in _STREAM_EVENTS:
        name, key = _STREAM_EVENTS[reply["operation"]]
        stream = _events(reply)

        def swap(parsed: dict[str, Any], **_: Any) -> None:
            parsed[key] = iter(stream)

        hooks.append((f"after-call.bedrock-runtime.{name}", swap))
    for index, (event, hook) in enumerate(hooks):
        events.register(event, hook, unique_id=f"interop-stub-{index}")
    try:
        with Stubber(client) as stubber:
            stubber.add_response(reply["operation"], _response(reply))
            yield sent
            stubber.assert_no_pending_responses()
    finally:
        for index, (event, _) in enumerate(hooks):
            events.unregister(event, unique_id=f"interop-stub-{index}")
        if isinstance(sent.get("body"), str | bytes):
            sent["body"] = json.loads(sent["body"])
