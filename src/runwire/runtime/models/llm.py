"""Completion models: ``BaseLLM`` turns a prompt string into a string.

A subclass implements ``_call(prompt, stop=None, **kwargs) -> str`` and optionally
``_stream`` (string chunks), ``_acall`` and ``_astream``. Input may be a string, a
prompt value or messages (rendered as a ``Human: ...`` transcript). Each call is one
``llm`` run for the callbacks, with inputs ``{"prompts": [prompt]}``. As in LangChain,
``invoke`` calls ``_call`` (it does not stream internally, unlike chat models).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

from runwire.runtime.base import run_in_executor
from runwire.runtime.cache_calls import CachedCall, mark_hit
from runwire.runtime.config import RunnableConfig
from runwire.runtime.models.chat import BaseLanguageModel, ModelCall
from runwire.runtime.models.inputs import to_prompt_string
from runwire.schema.outputs import Generation

__all__ = ["BaseLLM"]


class BaseLLM(BaseLanguageModel):
    """Base of text-completion models: a prompt in, a string out."""

    run_type = "llm"

    @property
    def OutputType(self) -> Any:
        return str

    # -- what subclasses implement -------------------------------------------------------
    @abstractmethod
    def _call(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        """Complete ``prompt`` once."""

    def _stream(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> Iterator[str]:
        """Stream the completion as string pieces (optional)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream")

    async def _acall(self, prompt: str, stop: list[str] | None = None, **kwargs: Any) -> str:
        """Async ``_call``; by default ``_call`` in a thread."""
        return await run_in_executor(None, partial(self._call, prompt, stop, **kwargs))

    async def _astream(
        self, prompt: str, stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        """Async ``_stream``; by default ``_stream`` stepped in a thread."""
        iterator = self._stream(prompt, stop, **kwargs)
        done: Any = object()
        while True:
            piece = await run_in_executor(None, next, iterator, done)
            if piece is done:
                return
            yield piece

    # -- helpers -------------------------------------------------------------------------
    def _can_stream(self, async_api: bool) -> bool:
        cls = type(self)
        if cls._stream is not BaseLLM._stream:
            return True
        return async_api and cls._astream is not BaseLLM._astream

    @staticmethod
    def _pieces(source: Iterator[str], call: ModelCall) -> Iterator[str]:
        seen = False
        for piece in source:
            call.stream(piece)
            seen = True
            yield piece
        if not seen:
            raise ValueError("No generation chunks were returned")

    @staticmethod
    async def _apieces(source: AsyncIterator[str], call: ModelCall) -> AsyncIterator[str]:
        seen = False
        async for piece in source:
            call.stream(piece)
            seen = True
            yield piece
        if not seen:
            raise ValueError("No generation chunks were returned")

    # -- calls ---------------------------------------------------------------------------
    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        prompt = to_prompt_string(input)
        call = self._begin({"prompts": [prompt]}, config)
        try:
            cached = CachedCall.for_llm(self, prompt, stop, kwargs)
            hit = cached.lookup() if cached is not None else None
            if hit:
                mark_hit(call)
                text = hit[0].text
            else:
                text = self._call(prompt, stop, **kwargs)
                if cached is not None:
                    cached.update([Generation(text=text)])
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(text)
        return text

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> str:
        prompt = to_prompt_string(input)
        call = self._begin({"prompts": [prompt]}, config)
        try:
            cached = CachedCall.for_llm(self, prompt, stop, kwargs)
            hit = await cached.alookup() if cached is not None else None
            if hit:
                mark_hit(call)
                text = hit[0].text
            else:
                text = await self._acall(prompt, stop, **kwargs)
                if cached is not None:
                    await cached.aupdate([Generation(text=text)])
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(text)
        return text

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[str]:
        if not self._can_stream(async_api=False):
            yield self.invoke(input, config, stop=stop, **kwargs)
            return
        prompt = to_prompt_string(input)
        call = self._begin({"prompts": [prompt]}, config)
        parts: list[str] = []
        try:
            for piece in self._pieces(self._stream(prompt, stop, **kwargs), call):
                parts.append(piece)
                yield piece
        except BaseException as exc:
            call.error(exc)
            raise
        call.end("".join(parts))

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        if not self._can_stream(async_api=True):
            yield await self.ainvoke(input, config, stop=stop, **kwargs)
            return
        prompt = to_prompt_string(input)
        call = self._begin({"prompts": [prompt]}, config)
        parts: list[str] = []
        try:
            async for piece in self._apieces(self._astream(prompt, stop, **kwargs), call):
                parts.append(piece)
                yield piece
        except BaseException as exc:
            call.error(exc)
            raise
        call.end("".join(parts))
