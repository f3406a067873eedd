"""``SagemakerEndpoint``: a text-completion model behind a SageMaker real-time endpoint.

Fields are langchain-aws's (``endpoint_name``, ``inference_component_name``,
``content_handler``, ``streaming``, ``model_kwargs``, ``endpoint_kwargs`` and the AWS
client fields); ``content_handler`` is declarative here (see
:mod:`runwire.providers.aws.sagemaker_handlers`), so the model is a file. ``invoke``
calls sagemaker-runtime ``InvokeEndpoint`` (``streaming=True``: the stream, joined);
``stream`` calls ``InvokeEndpointWithResponseStream`` and reads its ``PayloadPart``
events as lines, however the bytes are split between events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from functools import partial
from typing import Any, ClassVar

from pydantic import field_validator

from runwire.providers.aws.client import (
    AwsClientFields,
    AwsRunnable,
    iterate_in_aws_thread,
    run_in_aws_thread,
)
from runwire.providers.aws.sagemaker_handlers import LLMContentHandler, content_handler
from runwire.runtime.models.llm import BaseLLM

__all__ = ["ENDPOINT_KWARGS", "SagemakerEndpoint", "enforce_stop_tokens", "payload_lines"]

ENDPOINT_KWARGS = frozenset(
    (
        "CustomAttributes",
        "TargetModel",
        "TargetVariant",
        "TargetContainerHostname",
        "InferenceId",
        "EnableExplanations",
        "InferenceComponentName",
        "SessionId",
    )
)
"""InvokeEndpoint parameters ``endpoint_kwargs`` may set (TargetModel and
EnableExplanations do not exist for streams: botocore refuses them there)."""
MAX_LINE = 16 * 1024 * 1024
"""A stream line longer than this is an error (a bound on the buffer)."""


def enforce_stop_tokens(text: str, stop: list[str]) -> str:
    """``text`` cut where the first stop sequence starts."""
    cut = len(text)
    for word in stop:
        found = text.find(word) if word else -1
        if found != -1:
            cut = min(cut, found)
    return text[:cut]


def payload_lines(events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The newline-ended lines of a response stream's ``PayloadPart`` bytes (a last
    line without a newline too); other events are skipped."""
    buffer = b""
    for event in events:
        part = event.get("PayloadPart")
        if part is None:
            continue
        buffer += part.get("Bytes", b"")
        *lines, buffer = buffer.split(b"\n")
        yield from lines
        if len(buffer) > MAX_LINE:
            raise ValueError(f"a response stream line is longer than {MAX_LINE} bytes")
    if buffer:
        yield buffer


def _held_back(text: str, stop: list[str]) -> int:
    """How many characters at the end of ``text`` could start a stop sequence."""
    longest = 0
    for word in stop:
        for size in range(min(len(word) - 1, len(text)), longest, -1):
            if word.startswith(text[-size:]):
                longest = size
                break
    return longest


def _cut_stream(pieces: Iterable[str], stop: list[str] | None) -> Iterator[str]:
    """Pieces up to the first stop sequence, also one spanning pieces: text that could
    begin a stop sequence is held back until the next piece tells."""
    if not stop:
        yield from pieces
        return
    pending = ""  # text not sent yet: it may begin a stop sequence
    for piece in pieces:
        pending += piece
        cut = enforce_stop_tokens(pending, stop)
        if len(cut) < len(pending):
            if cut:
                yield cut
            return
        safe = len(pending) - _held_back(pending, stop)
        if safe:
            yield pending[:safe]
            pending = pending[safe:]
    if pending:
        yield pending


class SagemakerEndpoint(AwsRunnable, BaseLLM, AwsClientFields):
    """A model on a SageMaker endpoint (or one inference component of it).

    ``content_handler`` is a preset name (``tgi``, ``openai_chat``,
    ``openai_completions``, ``jumpstart_text2text``), a ``JsonContentHandler``, or an
    instance of a registered ``LLMContentHandler`` subclass. Credentials, region,
    endpoint and ``config`` resolve as for every runwire AWS class; ``client=`` injects a
    boto3 ``sagemaker-runtime`` client.
    """

    lc_kwarg_order: ClassVar[tuple[str, ...]] = (
        "name",
        "endpoint_name",
        "inference_component_name",
        "region_name",
        "credentials_profile_name",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "config",
        "endpoint_url",
        "content_handler",
        "streaming",
        "model_kwargs",
        "endpoint_kwargs",
    )
    """langchain-aws's field order."""

    endpoint_name: str = ""
    """The endpoint's name (unique in its account and region)."""
    inference_component_name: str | None = None
    """The inference component of the endpoint to invoke, if any."""
    credentials_profile_name: str | None = None
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    content_handler: str | LLMContentHandler
    """How the prompt becomes a request body and the answer text (see above)."""
    streaming: bool = False
    """Stream on ``invoke`` too (the pieces are joined)."""
    model_kwargs: dict[str, Any] | None = None
    """Model parameters given to the content handler (call keyword arguments win)."""
    endpoint_kwargs: dict[str, Any] | None = None
    """More InvokeEndpoint parameters: ``CustomAttributes``, ``TargetModel``,
    ``TargetVariant``, ``InferenceId``, ``SessionId``..."""

    aws_service: ClassVar[str] = "sagemaker-runtime"

    @field_validator("content_handler")
    @classmethod
    def _handler_is_known(cls, value: str | LLMContentHandler) -> str | LLMContentHandler:
        content_handler(value)  # an unknown preset name is an error here, not at call time
        return value

    @field_validator("endpoint_kwargs")
    @classmethod
    def _endpoint_kwargs_are_parameters(cls, value: dict[str, Any] | None) -> Any:
        unknown = sorted(set(value or ()) - ENDPOINT_KWARGS)
        if unknown:
            raise ValueError(
                f"unknown endpoint_kwargs {unknown}: InvokeEndpoint takes "
                f"{', '.join(sorted(ENDPOINT_KWARGS))}"
            )
        return value

    def _params(self, prompt: str, kwargs: dict[str, Any], stream: bool) -> dict[str, Any]:
        handler = content_handler(self.content_handler)
        params: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "Body": handler.transform_input(prompt, {**(self.model_kwargs or {}), **kwargs}),
            "ContentType": handler.content_type,
        }
        if not stream:
            params["Accept"] = handler.accepts
        params.update(self.endpoint_kwargs or {})
        if self.inference_component_name:
            params["InferenceComponentName"] = self.inference_component_name
        return params

    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        if self.streaming:
            return "".join(self._stream(prompt, stop, **kwargs))
        response = self.aws_call("invoke_endpoint", **self._params(prompt, kwargs, stream=False))
        text = content_handler(self.content_handler).transform_output(response["Body"].read())
        return enforce_stop_tokens(text, stop) if stop else text

    def _stream(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Iterator[str]:
        handler = content_handler(self.content_handler)
        params = self._params(prompt, kwargs, stream=True)
        if not handler.streams:
            raise NotImplementedError(
                f"content handler {self.content_handler!r} does not stream: give it a "
                "stream_path (JsonContentHandler) or use invoke"
                if isinstance(self.content_handler, str)
                else f"{type(handler).__name__} does not stream: use invoke"
            )
        response = self.aws_call("invoke_endpoint_with_response_stream", **params)
        events = self.aws_events(response["Body"], "invoke_endpoint_with_response_stream")
        texts = (handler.transform_stream_line(line) for line in payload_lines(events))
        yield from _cut_stream((text for text in texts if text), stop)

    async def _acall(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return await run_in_aws_thread(partial(self._call, prompt, stop, **kwargs))

    async def _astream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async for piece in iterate_in_aws_thread(self._stream(prompt, stop, **kwargs)):
            yield piece
