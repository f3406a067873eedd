"""AWS clients for every runwire AWS class: credentials, region, endpoint, errors, threads.

One resolution order for all of them (DESIGN.md, as langchain-aws does it):

1. an injected ``client`` wins (tests, or a client the application built);
2. ``credentials_profile_name`` selects a profile of the shared config files;
3. else explicit keys, whose defaults come from ``AWS_ACCESS_KEY_ID``,
   ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``;
4. else boto3's default chain (SSO, container and instance roles...).

An object built from an untrusted manifest (``runwire.loads`` defaults, see
``runwire.schema.trust``) skips 2-4: it may not name a profile, its key fields get no
environment defaults, and it never falls back to the default chain; its
``endpoint_url`` must be its service's own AWS endpoint or on the load's
``allowed_endpoints``, and its botocore ``config`` may not set proxies or client
certificates.

The region is the field, then ``AWS_REGION``, ``AWS_DEFAULT_REGION``, then the
session's. ``endpoint_url`` and a botocore ``config`` (a ``Config`` or, in manifests,
a mapping of its options) are honoured. Clients are built on first use and cached per
instance; boto3 is imported only then.

Every AWS failure leaves as a :class:`runwire.errors.ProviderError` that keeps the AWS
error code, HTTP status and request id, with any secret value masked. Async calls run
the blocking boto3 call in one bounded thread pool (``RUNWIRE_AWS_MAX_WORKERS``,
default 64), never in the event loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from functools import cache, partial
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.aws.endpoints import UNTRUSTED_CONFIG, is_aws_endpoint
from runwire.providers.aws.sessions import (
    bearer_client,
    botocore_config,
    botocore_session,
    with_limits,
)
from runwire.providers.aws.threads import (
    PooledAbatch,
    aws_executor,
    iterate_in_aws_thread,
    run_in_aws_thread,
)
from runwire.redaction import register_secret
from runwire.schema.trust import TrustMark, UntrustedValueError, current_trust

__all__ = [
    "BEDROCK_SETTINGS",
    "CLIENT_SETTINGS",
    "AwsClientFields",
    "AwsRunnable",
    "AwsSerializable",
    "aws_executor",
    "build_client",
    "env_secret",
    "iterate_in_aws_thread",
    "provider_error",
    "run_in_aws_thread",
]

T = TypeVar("T")


def env_secret(name: str) -> Callable[[], SecretStr | None]:
    """A default factory: the environment variable ``name`` as a secret, or ``None``.

    Objects built from an untrusted manifest get ``None``: the environment's credentials
    are ambient, not theirs.
    """

    def read() -> SecretStr | None:
        if not current_trust().trusted:
            return None
        value = os.environ.get(name)
        if not value:
            return None
        register_secret(value)
        return SecretStr(value)

    read.__name__ = f"env_{name}"
    return read


def _plain(secret: SecretStr | str | None) -> str | None:
    if secret is None:
        return None
    return secret.get_secret_value() if isinstance(secret, SecretStr) else secret


def build_client(
    service: str,
    *,
    owner: str = "client",
    region_name: str | None = None,
    credentials_profile_name: str | None = None,
    aws_access_key_id: SecretStr | str | None = None,
    aws_secret_access_key: SecretStr | str | None = None,
    aws_session_token: SecretStr | str | None = None,
    endpoint_url: str | None = None,
    config: Any = None,
    ambient: bool = True,
    bedrock_api_key: SecretStr | str | None = None,
    timeout: int | None = None,
    max_retries: int | None = None,
) -> Any:
    """A boto3 client for ``service``, resolved as the module docstring says.

    ``owner`` names the class asking, for error messages. With ``ambient=False`` (an
    object from an untrusted manifest) only the explicit keys are used: no profile, no
    default credential chain. ``bedrock_api_key`` (a Bedrock API key) authenticates with
    HTTP bearer auth instead of keys, for this client only (langchain-aws's way, without
    touching the process environment). ``timeout`` sets the connect and read timeouts,
    ``max_retries`` the retry attempts, over ``config``.
    """
    key, secret = _plain(aws_access_key_id), _plain(aws_secret_access_key)
    token = _plain(aws_session_token)
    api_key = _plain(bedrock_api_key)
    config = with_limits(config, timeout, max_retries)
    if api_key:
        return bearer_client(service, owner, api_key, region_name, endpoint_url, config)
    if not ambient and (credentials_profile_name or not (key and secret)):
        raise ProviderSetupError(
            f"{owner} was loaded from an untrusted manifest, so it gets no ambient AWS "
            "credentials (environment, profiles, instance roles); pass its keys in "
            "secrets_map, or load the manifest with trusted=True if it is your own"
        )
    if not credentials_profile_name:
        if bool(key) != bool(secret):
            given, missing = (
                ("aws_access_key_id", "aws_secret_access_key (AWS_SECRET_ACCESS_KEY)")
                if key
                else ("aws_secret_access_key", "aws_access_key_id (AWS_ACCESS_KEY_ID)")
            )
            raise ProviderSetupError(
                f"{owner}: {given} is set but {missing} is not; AWS keys come in pairs"
            )
        if token and not key:
            raise ProviderSetupError(
                f"{owner}: aws_session_token is set without aws_access_key_id and "
                "aws_secret_access_key"
            )
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        if credentials_profile_name:
            session = boto3.Session(
                botocore_session=botocore_session(), profile_name=credentials_profile_name
            )
        elif key:
            session = boto3.Session(
                botocore_session=botocore_session(),
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                aws_session_token=token,
            )
        else:
            session = boto3.Session(botocore_session=botocore_session())
        region = (
            region_name
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or session.region_name
        )
        if not region:
            raise ProviderSetupError(
                f"{owner}: no AWS region; set region_name, or AWS_REGION / AWS_DEFAULT_REGION"
            )
        client_config = botocore_config(config)
        if not ambient:  # SigV4 with the given keys, never a bearer token from the environment
            from botocore.config import Config

            client_config = client_config.merge(Config(auth_scheme_preference="sigv4"))
        return session.client(
            service, region_name=region, endpoint_url=endpoint_url or None, config=client_config
        )
    except BotoCoreError as exc:  # ProfileNotFound and friends
        raise ProviderSetupError(f"{owner}: {exc}") from None


def provider_error(
    exc: BaseException, service: str, operation: str, secrets: Iterable[str | None] = ()
) -> ProviderError:
    """A botocore failure as a :class:`ProviderError`, secret values masked."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        meta = response.get("ResponseMetadata") or {}
        code = str(error.get("Code") or type(exc).__name__)
        code = code[:1].upper() + code[1:]  # event-stream errors arrive camelCased
        message = str(error.get("Message") or exc)
        status = meta.get("HTTPStatusCode")
        request_id = meta.get("RequestId") or None
        operation = getattr(exc, "operation_name", None) or operation
    else:
        code, message, status, request_id = type(exc).__name__, str(exc), None, None
    for value in secrets:
        register_secret(value)  # ProviderError masks every registered value, in any form
    return ProviderError(service, operation, code, message, status=status, request_id=request_id)


@cache
def _botocore_errors() -> tuple[type[Exception], ...]:
    """botocore's two error roots (imported on first use)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


# -- the fields and methods every AWS class shares ---------------------------------------
CLIENT_SETTINGS = (
    "region_name",
    "credentials_profile_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "endpoint_url",
    "config",
)
"""The fields a client is built from (``build_client``'s keyword arguments)."""

BEDROCK_SETTINGS = ("bedrock_api_key", "timeout", "max_retries")
"""More client settings, of the classes that have these fields (the Bedrock models)."""


def _origin(url: str) -> str:
    """``scheme://host`` of a URL (what an allowlist entry names)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1].rsplit(':', 1)[0]}"


class AwsSerializable:
    """The wire identity every AWS class shares; listed first among a class's bases."""

    lc_secret_service: ClassVar[str] = "aws"
    """The service this class's secrets are sent to (see ``runwire.schema.trust``)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    lc_kwarg_order: ClassVar[tuple[str, ...]]
    """The order langchain-aws writes this class's kwargs in (its field order); kwargs
    not listed follow in their own order. Unset: runwire's field order. (Declared
    without a value here, so a base listed after this one can set it.)"""

    def to_json(self) -> Any:
        node = super().to_json()  # type: ignore[misc]
        order = getattr(self, "lc_kwarg_order", ())
        kwargs = node.get("kwargs") if order else None
        if kwargs:
            rank = {name: i for i, name in enumerate(order)}
            keys = sorted(kwargs, key=lambda k: rank.get(k, len(rank)))
            node["kwargs"] = {key: kwargs[key] for key in keys}
        return node


class AwsRunnable(AwsSerializable, PooledAbatch):
    """The bases of AWS runnables: the AWS wire identity, and ``abatch`` in the AWS pool."""


_clients_lock = threading.Lock()
"""Guards client building (module-wide: a lock is not a value a model should carry)."""


class ClientCache:
    """The boto3 clients one model built, keyed by service and the settings used.

    It is not part of the model's value: any two caches compare equal, and a deep
    copy starts empty. Keys include the settings, so a ``model_copy`` with another
    region (which shares the cache) builds its own client.
    """

    __slots__ = ("clients",)

    def __init__(self) -> None:
        self.clients: dict[tuple[Any, ...], Any] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientCache)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __repr__(self) -> str:
        return f"<ClientCache of {len(self.clients)} client(s)>"


class AwsClientFields(BaseModel):
    """Client fields of an AWS class (langchain-aws names) and the calls built on them.

    A class sets ``aws_service`` (the boto3 service name) and may redeclare a field to
    give it langchain-aws's alias for that class (``region`` or ``base_url``).
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    client: Any = Field(default=None, exclude=True)
    """A boto3 client to use instead of building one (it wins over every other field)."""
    region_name: str | None = None
    """AWS region, e.g. ``us-west-2``; else AWS_REGION, AWS_DEFAULT_REGION, the profile's."""
    credentials_profile_name: str | None = Field(default=None, exclude=True)
    """A profile of ~/.aws/credentials or ~/.aws/config; wins over keys."""
    aws_access_key_id: SecretStr | None = Field(default_factory=env_secret("AWS_ACCESS_KEY_ID"))
    """Access key id; defaults to AWS_ACCESS_KEY_ID."""
    aws_secret_access_key: SecretStr | None = Field(
        default_factory=env_secret("AWS_SECRET_ACCESS_KEY")
    )
    """Secret access key; defaults to AWS_SECRET_ACCESS_KEY."""
    aws_session_token: SecretStr | None = Field(default_factory=env_secret("AWS_SESSION_TOKEN"))
    """Session token of temporary credentials; defaults to AWS_SESSION_TOKEN."""
    endpoint_url: str | None = None
    """Service endpoint to call instead of AWS's (a VPC endpoint, an emulator)."""
    config: Any = None
    """A botocore ``Config``, or a mapping of its options (retries, timeouts...)."""

    aws_service: ClassVar[str] = "bedrock-runtime"
    """The boto3 service this class calls."""

    _aws_clients: ClientCache = PrivateAttr(default_factory=ClientCache)
    _trust: TrustMark = PrivateAttr(default_factory=TrustMark)
    """The trust this object was built under (see ``runwire.schema.trust``)."""

    @field_validator("credentials_profile_name")
    @classmethod
    def _no_profile_when_untrusted(cls, value: str | None) -> str | None:
        if value and not current_trust().trusted:
            raise UntrustedValueError(
                "an untrusted manifest cannot name a credentials profile (profiles are the "
                "machine's credentials)",
                "give keys as secret nodes resolved from secrets_map, or load your own file "
                "with trusted=True",
            )
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint_on_allowlist(cls, value: str | None) -> str | None:
        trust = current_trust()
        if (
            value
            and not trust.trusted
            and not (is_aws_endpoint(value, cls.aws_service) or trust.allows_endpoint(value))
        ):
            raise UntrustedValueError(
                f"endpoint {value!r} is neither an AWS endpoint of {cls.aws_service} nor "
                "on allowed_endpoints; an untrusted manifest may only send requests there",
                f"if you run that endpoint, allow it: allowed_endpoints=[{_origin(value)!r}] "
                "(or allowed_endpoints: in runwire.yaml)",
            )
        return value

    @field_validator("config")
    @classmethod
    def _safe_config_when_untrusted(cls, value: Any) -> Any:
        if value is not None and not current_trust().trusted:
            options = (
                value if isinstance(value, dict) else getattr(value, "_user_provided_options", None)
            )
            if not isinstance(options, dict):
                raise UntrustedValueError(
                    "an untrusted manifest may only give config as a mapping",
                    "write config as a mapping of botocore Config options",
                )
            refused = sorted(set(options) - UNTRUSTED_CONFIG)
            if refused:
                raise UntrustedValueError(
                    f"config option(s) {', '.join(refused)} may not come from an untrusted "
                    "manifest",
                    f"remove them; allowed here: {', '.join(sorted(UNTRUSTED_CONFIG))}",
                )
        return value

    def aws_client(self, service: str | None = None) -> Any:
        """The (cached) boto3 client for ``service``, by default this class's."""
        service = service or self.aws_service
        if service == self.aws_service and self.client is not None:
            return self.client
        clients = self._aws_clients.clients
        settings = self.client_settings()
        config = settings.pop("config")
        key = (service, *settings.values(), id(config))
        found = clients.get(key)
        if found is None:
            with _clients_lock:
                found = clients.get(key)
                if found is None:
                    found = clients[key] = build_client(
                        service,
                        owner=type(self).__name__,
                        config=config,
                        ambient=self._trust.trust.trusted,
                        **settings,
                    )
        return found

    def client_settings(self) -> dict[str, Any]:
        """The fields a client is built from, by name (see ``CLIENT_SETTINGS``)."""
        settings = {name: getattr(self, name) for name in CLIENT_SETTINGS}
        fields = type(self).model_fields
        settings.update({name: getattr(self, name) for name in BEDROCK_SETTINGS if name in fields})
        return settings

    def _secret_values(self) -> list[str | None]:
        return [
            _plain(self.aws_access_key_id),
            _plain(self.aws_secret_access_key),
            _plain(self.aws_session_token),
            _plain(getattr(self, "bedrock_api_key", None)),
        ]

    def aws_call(self, operation: str, service: str | None = None, **params: Any) -> Any:
        """Call ``operation`` (boto3's snake_case method name); failures as ProviderError."""
        service = service or self.aws_service
        try:
            return getattr(self.aws_client(service), operation)(**params)
        except _botocore_errors() as exc:
            raise provider_error(exc, service, operation, self._secret_values()) from None

    def aws_events(
        self, events: Iterable[T], operation: str, service: str | None = None
    ) -> Iterator[T]:
        """Iterate a response event stream; a failure mid-stream becomes a ProviderError."""
        try:
            yield from events
        except _botocore_errors() as exc:
            raise provider_error(
                exc, service or self.aws_service, operation, self._secret_values()
            ) from None

    async def aws_acall(self, operation: str, service: str | None = None, **params: Any) -> Any:
        """``aws_call`` in the bounded AWS thread pool."""
        return await run_in_aws_thread(partial(self.aws_call, operation, service, **params))
