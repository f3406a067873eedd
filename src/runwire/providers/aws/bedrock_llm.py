"""``BedrockLLM``: text completion over Bedrock ``InvokeModel`` (langchain-aws's class).

The prompt goes into the body of the model's row of
:mod:`runwire.providers.aws.invoke_formats` as it is (``prompt`` or ``inputText``;
Anthropic and Nova models get it as one user message). ``invoke`` returns the text;
``complete`` returns the whole :class:`~runwire.providers.aws.invoke_formats.Reply`
(stop reason, usage, and Bedrock's guardrail signal, see :mod:`.bedrock_base`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

from runwire.providers.aws.bedrock_base import BedrockBase
from runwire.providers.aws.client import AwsRunnable, iterate_in_aws_thread, run_in_aws_thread
from runwire.providers.aws.invoke_formats import Reply
from runwire.runtime.models.llm import BaseLLM

__all__ = ["BedrockLLM"]


class BedrockLLM(AwsRunnable, BaseLLM, BedrockBase):
    """A Bedrock text-completion model.

    Credentials, region, endpoint and ``config`` resolve as every runwire AWS class
    does (see ``runwire.providers.aws.client``); ``client=`` injects a boto3
    ``bedrock-runtime`` client. With ``streaming=True``, ``invoke`` streams and joins.
    """

    @property
    def lc_attributes(self) -> dict[str, Any]:
        return {"region_name": self.region_name} if self.region_name else {}

    def complete(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Reply:
        """One InvokeModel call: the reply's text, stop reason, usage and signals."""
        fmt = self._format()
        return self._invoke(fmt, fmt.render_prompt(prompt), stop, kwargs)

    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        if self.streaming:
            return "".join(self._stream(prompt, stop, **kwargs))
        return self.complete(prompt, stop, **kwargs).text

    def _stream(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Iterator[str]:
        fmt = self._format()
        sent = False
        for piece in self._invoke_stream(fmt, fmt.render_prompt(prompt), stop, kwargs):
            if piece.text:
                sent = True
                yield piece.text
        if not sent:
            yield ""  # an empty completion is still a completion

    async def _acall(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        return await run_in_aws_thread(partial(self._call, prompt, stop, **kwargs))

    async def _astream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async for piece in iterate_in_aws_thread(self._stream(prompt, stop, **kwargs)):
            yield piece
