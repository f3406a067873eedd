"""A local OpenAI Assistants v2 API for tests and demos (threads, runs, tool outputs).

::

    from runwire.testing.openai_assistants import AssistantsEmulator

    with AssistantsEmulator() as emu:
        client = openai.OpenAI(base_url=emu.base_url, api_key="sk-runwire-emulator")

Names load on first use: importing this package starts nothing.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_API_KEY": "runwire.testing.openai_assistants.emulator",
    "AssistantsEmulator": "runwire.testing.openai_assistants.emulator",
    "RecordedCall": "runwire.testing.openai_assistants.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
