"""Content handlers of ``SagemakerEndpoint``: declarative, so endpoints stay files.

langchain-aws asks for a Python ``LLMContentHandler`` object, which makes its
``SagemakerEndpoint`` unserializable. Here a handler is data: a
:class:`JsonContentHandler` (a JSON request template and JMESPath expressions for the
answer and for each streamed line), named presets for the common model servers
(:data:`CONTENT_HANDLERS`), or a user's own :class:`LLMContentHandler` subclass
registered with ``runwire.register``.

A request template is JSON in which the string ``"{prompt}"`` stands for the prompt and
``"{model_kwargs}"`` for the model keyword arguments (an object). When the template has
no ``"{model_kwargs}"``, the keyword arguments are merged into its top level. Nothing
else is interpolated: templates never format or run anything.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from functools import cache
from typing import Any

from pydantic import field_validator, model_validator

from runwire.schema.serializable import Serializable

__all__ = [
    "CONTENT_HANDLERS",
    "JsonContentHandler",
    "LLMContentHandler",
    "content_handler",
]

PROMPT, MODEL_KWARGS = "{prompt}", "{model_kwargs}"


class LLMContentHandler(Serializable):
    """Turns a prompt into an endpoint's request body and its answer into text.

    Subclass it (and register the subclass) for a format the presets do not cover:
    ``transform_input`` returns the body bytes, ``transform_output`` reads the whole
    response body (bytes), ``transform_stream_line`` one line of a response stream
    (return ``""`` for lines without text).
    """

    content_type: str = "application/json"
    """The MIME type of the request body."""
    accepts: str = "application/json"
    """The MIME type asked for the response."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @abstractmethod
    def transform_input(self, prompt: str, model_kwargs: dict[str, Any]) -> bytes:
        """The request body for ``prompt``."""

    @abstractmethod
    def transform_output(self, output: bytes) -> str:
        """The generated text of a whole response body."""

    def transform_stream_line(self, line: bytes) -> str:
        """The text of one line of a response stream (``""`` when it has none)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream")

    @property
    def streams(self) -> bool:
        """Whether this handler reads response streams."""
        return type(self).transform_stream_line is not LLMContentHandler.transform_stream_line


def _fill(template: Any, prompt: str, model_kwargs: dict[str, Any]) -> Any:
    if template == PROMPT:
        return prompt
    if template == MODEL_KWARGS:
        return dict(model_kwargs)
    if isinstance(template, dict):
        return {key: _fill(value, prompt, model_kwargs) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, prompt, model_kwargs) for value in template]
    return template


def _mentions(template: Any, marker: str) -> bool:
    if template == marker:
        return True
    if isinstance(template, dict):
        return any(_mentions(value, marker) for value in template.values())
    if isinstance(template, list):
        return any(_mentions(value, marker) for value in template)
    return False


@cache
def _compiled(expression: str) -> Any:
    import jmespath

    return jmespath.compile(expression)


class JsonContentHandler(LLMContentHandler):
    """A JSON request built from ``request_template``; the answer read with JMESPath.

    ``output_path`` finds the text in the response body; ``stream_path`` finds it in
    each line of a response stream (a ``data:`` prefix is removed and ``[DONE]`` lines
    skipped, so server-sent-event and JSON-lines streams both work).
    """

    request_template: dict[str, Any]
    """The request body, with ``"{prompt}"`` and optionally ``"{model_kwargs}"``."""
    output_path: str
    """JMESPath of the generated text in the response, e.g. ``[0].generated_text``."""
    stream_path: str | None = None
    """JMESPath of the text in one stream line, e.g. ``token.text``; None: no streaming."""

    @field_validator("output_path", "stream_path")
    @classmethod
    def _jmespath_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            from jmespath.exceptions import JMESPathError

            try:
                _compiled(value)
            except JMESPathError as exc:
                raise ValueError(f"not a JMESPath expression: {value!r} ({exc})") from None
        return value

    @model_validator(mode="after")
    def _template_takes_the_prompt(self) -> JsonContentHandler:
        if not _mentions(self.request_template, PROMPT):
            raise ValueError('request_template must contain the string "{prompt}"')
        return self

    @property
    def streams(self) -> bool:
        return self.stream_path is not None

    def transform_input(self, prompt: str, model_kwargs: dict[str, Any]) -> bytes:
        body = _fill(self.request_template, prompt, model_kwargs)
        if model_kwargs and not _mentions(self.request_template, MODEL_KWARGS):
            body = {**body, **model_kwargs}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _text(self, path: str, data: Any) -> str:
        found = _compiled(path).search(data)
        if found is None:
            return ""
        return found if isinstance(found, str) else json.dumps(found)

    def transform_output(self, output: bytes) -> str:
        try:
            data = json.loads(output)
        except ValueError:
            raise ValueError(
                f"the endpoint answered with a body that is not JSON: {output[:80]!r}"
            ) from None
        return self._text(self.output_path, data)

    def transform_stream_line(self, line: bytes) -> str:
        if self.stream_path is None:
            raise NotImplementedError(
                "this content handler has no stream_path: the endpoint cannot stream"
            )
        text = line.strip()
        if text.startswith(b"data:"):
            text = text[5:].strip()
        if not text or text == b"[DONE]":
            return ""
        return self._text(self.stream_path, json.loads(text))


CONTENT_HANDLERS: dict[str, JsonContentHandler] = {
    # Hugging Face TGI (and LMI's TGI-compatible schema): {"inputs", "parameters"}
    "tgi": JsonContentHandler(
        request_template={"inputs": PROMPT, "parameters": MODEL_KWARGS},
        output_path="[0].generated_text || generated_text",
        stream_path="token.text",
    ),
    # OpenAI-compatible chat completions (LMI, vLLM, TGI Messages API)
    "openai_chat": JsonContentHandler(
        request_template={"messages": [{"role": "user", "content": PROMPT}]},
        output_path="choices[0].message.content",
        stream_path="choices[0].delta.content",
    ),
    # OpenAI-compatible text completions
    "openai_completions": JsonContentHandler(
        request_template={"prompt": PROMPT},
        output_path="choices[0].text",
        stream_path="choices[0].text",
    ),
    # SageMaker JumpStart text2text models (Flan-T5 and kin): no streaming
    "jumpstart_text2text": JsonContentHandler(
        request_template={"text_inputs": PROMPT},
        output_path="generated_texts[0]",
    ),
}
"""Preset name -> handler: what ``content_handler: NAME`` means."""


def content_handler(value: str | LLMContentHandler) -> LLMContentHandler:
    """The handler a ``content_handler`` field names (a preset) or holds."""
    if isinstance(value, LLMContentHandler):
        return value
    found = CONTENT_HANDLERS.get(value)
    if found is None:
        raise ValueError(
            f"unknown content handler {value!r}: one of {', '.join(sorted(CONTENT_HANDLERS))}, "
            "a JsonContentHandler, or a registered LLMContentHandler subclass"
        )
    return found
