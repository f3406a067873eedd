"""Bedrock model ids: which provider a model id (or inference profile) belongs to."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["REGION_PREFIXES", "base_model_name", "provider_of"]

REGION_PREFIXES = frozenset(("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"))
"""First segments of cross-region inference profile ids (``us.anthropic.claude-...``)."""


def _segments(model_id: str) -> list[str]:
    parts = model_id.split(".")
    if len(parts) > 2 and parts[0] in REGION_PREFIXES:
        return parts[1:]
    return parts


@lru_cache(maxsize=512)
def provider_of(model_id: str, provider: str | None = None) -> str:
    """The provider of ``model_id`` (``anthropic``, ``amazon``, ``meta``...), lower-case.

    An explicit ``provider`` wins. A region-prefixed profile id names its provider in
    the second segment; an ARN names none, so it needs ``provider``.
    """
    if provider:
        return provider.lower()
    if model_id.startswith("arn:"):
        raise ValueError(
            f"model id {model_id!r} is an ARN, which does not name its provider: "
            "set the `provider` field (e.g. provider: anthropic)"
        )
    parts = _segments(model_id)
    if len(parts) < 2 or not parts[0]:
        raise ValueError(
            f"cannot tell the provider of model id {model_id!r}: expected "
            "'provider.model' (e.g. anthropic.claude-3-haiku-20240307-v1:0); "
            "or set the `provider` field"
        )
    return parts[0].lower()


@lru_cache(maxsize=512)
def base_model_name(model_id: str) -> str:
    """The model part after the provider, region prefix removed (``claude-3-haiku-...``)."""
    if model_id.startswith("arn:"):
        return model_id.rsplit("/", 1)[-1]
    return ".".join(_segments(model_id)[1:])
