"""OpenAI providers: assistants (Assistants API v2) over the official ``openai`` SDK.

Classes load on first use: importing this package does not import the SDK.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "OpenAIAssistantV2Runnable": "runwire.providers.openai.assistant",
    "OpenAIAssistantAction": "runwire.providers.openai.agent_types",
    "OpenAIAssistantFinish": "runwire.providers.openai.agent_types",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
