"""redis-py clients of the MemoryDB classes: made from a secret URL, failures as
``ProviderError`` (registered secrets masked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from runwire.errors import ProviderError, ProviderSetupError
from runwire.redaction import register_secret

__all__ = ["ClientSlot", "failure", "redis_client"]


def redis_client(url: SecretStr | str | None, **kwargs: Any) -> Any:
    """A redis-py client for ``url`` (its password registered for redaction)."""
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - redis is in the dev extra
        raise ImportError(
            "InMemoryVectorStore needs the redis package: pip install 'runwire[memorydb]'"
        ) from exc
    plain = url.get_secret_value() if isinstance(url, SecretStr) else url
    if not plain:
        raise ProviderSetupError(
            "no MemoryDB URL: set redis_url (a secret, e.g. !secret REDIS_URL) or REDIS_URL"
        )
    register_secret(plain)
    try:
        password = urlsplit(plain).password
    except ValueError:
        raise ProviderSetupError("redis_url is not a valid redis:// or rediss:// URL") from None
    if password:
        register_secret(password)
    try:
        return redis.Redis.from_url(plain, **kwargs)
    except ValueError:
        raise ProviderSetupError(
            "redis_url is not a valid URL: it must start with redis://, rediss:// or unix://"
        ) from None


class ClientSlot:
    """The lazily made client (equal to any other: it is not part of the object's value)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientSlot)

    __hash__ = None  # type: ignore[assignment]


def failure(operation: str, exc: Exception) -> ProviderError:
    return ProviderError("memorydb", operation, type(exc).__name__, str(exc))
