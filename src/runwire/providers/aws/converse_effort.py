"""``reasoning_effort`` of ChatBedrockConverse in each model family's own request fields
(langchain-aws's translation table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

__all__ = ["ReasoningEffort", "effort_fields"]

ReasoningEffort = Literal["none", "low", "medium", "high", "xhigh", "max"]

_EFFORT_FAMILIES: tuple[tuple[Callable[[str], bool], Callable[[str], dict[str, Any]]], ...] = (
    (
        lambda m: m.startswith("amazon.nova-2"),
        lambda e: {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": e}},
    ),
    (
        lambda m: "claude" in m,
        lambda e: {"thinking": {"type": "adaptive"}, "output_config": {"effort": e}},
    ),
    (lambda m: m.startswith("openai.gpt-oss"), lambda e: {"reasoning_effort": e}),
    (lambda m: m.startswith("openai.gpt-"), lambda e: {"reasoning": {"effort": e}}),
    (
        lambda m: m.startswith(("moonshot.", "moonshotai.", "zai.glm-")),
        lambda e: {"reasoning_effort": e},
    ),
)
"""(base model test, request fields of an effort): langchain-aws's translation table."""


def effort_fields(base_model: str, effort: str) -> dict[str, Any]:
    """``reasoning_effort`` as the model family's request fields ({} when it has none)."""
    model = base_model.lower()
    for matches, fields in _EFFORT_FAMILIES:
        if matches(model):
            return fields(effort)
    return {}
