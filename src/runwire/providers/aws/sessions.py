"""botocore sessions and client settings for runwire's AWS clients.

One data loader shared by every session (service models load once), runwire's
``Config`` (pool size, user agent) under the user's, ``timeout``/``max_retries``
merged over ``config``, and clients that sign with a Bedrock API key (HTTP bearer
auth, langchain-aws's way without touching the process environment).
"""

from __future__ import annotations

import os
from typing import Any

from runwire.errors import ProviderSetupError
from runwire.providers.aws.threads import _max_workers
from runwire.redaction import register_secret

__all__ = ["bearer_client", "botocore_config", "botocore_session", "with_limits"]

_USER_AGENT = "runwire"


def botocore_config(config: Any) -> Any:
    """The botocore ``Config`` for a client: runwire's pool size, then the user's options."""
    from botocore.config import Config

    base = Config(max_pool_connections=_max_workers(), user_agent_extra=_USER_AGENT)
    if config is None:
        return base
    if isinstance(config, dict):
        try:
            config = Config(**config)
        except TypeError as exc:
            raise ProviderSetupError(f"config is not a valid botocore Config: {exc}") from None
    if not isinstance(config, Config):
        raise ProviderSetupError(
            f"config must be a botocore Config or a mapping of its options, "
            f"not {type(config).__name__}"
        )
    return base.merge(config)


_loader: Any = None


def botocore_session() -> Any:
    """A fresh botocore session sharing one data loader, so service models load once.

    Each client gets its own session (sessions are not thread-safe and hold the
    credentials), but parsing the service JSON is what makes building a client slow.
    """
    global _loader
    import botocore.session

    session = botocore.session.get_session()
    if _loader is None:
        _loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _loader)
    return session


def with_limits(config: Any, timeout: int | None, max_retries: int | None) -> Any:
    """``config`` with ``timeout`` and ``max_retries`` merged over it (a mapping stays one)."""
    limits: dict[str, Any] = {}
    if timeout is not None:
        limits.update(connect_timeout=timeout, read_timeout=timeout)
    if max_retries is not None:
        limits["retries"] = {"max_attempts": max_retries}
    if not limits:
        return config
    if config is None or isinstance(config, dict):
        return {**(config or {}), **limits}
    from botocore.config import Config

    return config.merge(Config(**limits)) if isinstance(config, Config) else config


class _StaticToken:
    """A botocore token provider that always answers one bearer token."""

    METHOD = "static"

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "<StaticToken ***>"

    def load_token(self, **kwargs: Any) -> Any:
        from botocore.tokens import FrozenAuthToken

        return FrozenAuthToken(self._token)


def bearer_client(
    service: str,
    owner: str,
    api_key: str,
    region_name: str | None,
    endpoint_url: str | None,
    config: Any,
) -> Any:
    """A client that signs with HTTP bearer auth (a Bedrock API key), keys ignored."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    register_secret(api_key)
    region = region_name or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise ProviderSetupError(
            f"{owner}: no AWS region; set region_name, or AWS_REGION / AWS_DEFAULT_REGION"
        )
    core = botocore_session()
    chain = core.get_component("token_provider")
    try:
        chain._providers.insert(0, _StaticToken(api_key))  # botocore has no public hook
    except AttributeError:
        raise ProviderSetupError(
            f"{owner}: this botocore cannot take a Bedrock API key (no token provider chain)"
        ) from None
    client_config = botocore_config(config).merge(Config(auth_scheme_preference="httpBearerAuth"))
    try:
        return boto3.Session(botocore_session=core).client(
            service, region_name=region, endpoint_url=endpoint_url or None, config=client_config
        )
    except BotoCoreError as exc:
        raise ProviderSetupError(f"{owner}: {exc}") from None
