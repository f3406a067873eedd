"""Secret sources for deployed pipelines, tried in a configured order.

A pipeline's secret nodes (``{"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}``)
are resolved when it is built, through a :class:`SecretResolver` - a read-only mapping
that asks its sources in order and answers with the first value found. The sources
(``RUNWIRE_SECRETS__ORDER``, default ``explicit,env,dotenv,dir``):

- ``explicit``: a map given in code;
- ``env``: the process environment;
- ``dotenv``: a ``.env`` file (``RUNWIRE_SECRETS__DOTENV_FILE``), read once;
- ``dir``: a directory with one file per secret, file name = secret name, trailing
  newline stripped (``RUNWIRE_SECRETS__DIR``, default ``/run/secrets``: Docker and
  Kubernetes secrets); names that are not plain file names are never looked up there;
- ``aws_secretsmanager``: AWS Secrets Manager, secret ``prefix + name``, its
  ``SecretString``. ``name#key`` selects ``key`` of a secret holding a JSON object
  (``db#password``: one AWS secret holding several values);
- ``aws_ssm``: SSM Parameter Store, parameter ``prefix + name``, decrypted.

An empty value counts as missing, so the next source is asked. The AWS sources build
their boto3 client on first use and cache lookups (found or not) for ``ttl_s``
seconds; an AWS "not found" means "ask the next source", any other AWS failure is a
:class:`runwire.errors.ProviderError`. No value appears in a repr or an error.

Values are sanitised where they enter: a secret is one line of text. A file in the
``dir`` source loses the one line ending files end with (``\\n`` or ``\\r\\n``; a
``.env`` line's own ending is never part of its value); after that, a value from any
source that still holds a control character - a line break (so ``tok\\n\\n`` in a
secrets file), ``\\r``, NUL, any other C0 or C1 control, DEL; a tab is allowed - is
refused with a :class:`SecretSourceError` naming the secret, the source
and the character, never the value. (A value with a line break would otherwise reach an
HTTP header, where clients refuse it and echo it back in their error.) Every value the
resolver hands out is registered with :func:`runwire.redaction.register_secret`, so it
is masked, in any form, wherever runwire reports an error or logs.
"""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from runwire.errors import RunwireError
from runwire.redaction import register_secret, unprintable

if TYPE_CHECKING:
    from runwire.deploy.settings import RunwireSettings

__all__ = [
    "AwsSecretsManagerSource",
    "AwsSsmSource",
    "DotenvSource",
    "EnvSource",
    "ExplicitSource",
    "SecretResolver",
    "SecretSource",
    "SecretSourceError",
    "SecretsDirSource",
    "checked_secret",
    "deployment_secrets",
    "secret_resolver",
]


class SecretSourceError(RunwireError, ValueError):
    """A secret source holds something unusable under a name (never quoting the value).

    Attributes:
        message: what is wrong, naming the secret and where it comes from.
        hint: how to fix it, in one line (may be empty).
        secret: the secret's name, when the problem is one secret's value.
    """

    def __init__(self, message: str, *, hint: str = "", secret: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.secret = secret
        super().__init__(message)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class SecretSource(Protocol):
    """One place secrets can come from."""

    name: str
    """The source's name in ``RUNWIRE_SECRETS__ORDER`` (``"env"``, ``"dir"``...)."""

    def get(self, key: str) -> str | None:
        """The secret ``key``, or ``None`` when this source does not have it."""
        ...


def _present(value: str | None) -> str | None:
    return value if value else None


class ExplicitSource:
    """Secrets given in code."""

    name = "explicit"

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str) -> str | None:
        return _present(self._values.get(key))

    def where(self, key: str) -> str:
        """Where ``key`` is read from, for messages."""
        return f"the explicit secret {key}"

    def __repr__(self) -> str:
        return f"ExplicitSource({len(self._values)} secrets)"


class EnvSource:
    """Environment variables (``os.environ``, read at each lookup, unless given)."""

    name = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def get(self, key: str) -> str | None:
        environ = os.environ if self._environ is None else self._environ
        return _present(environ.get(key))

    def where(self, key: str) -> str:
        """Where ``key`` is read from, for messages."""
        return f"environment variable {key}"

    def __repr__(self) -> str:
        return "EnvSource(os.environ)" if self._environ is None else "EnvSource(<mapping>)"


class DotenvSource:
    """A ``.env`` file, read on the first lookup; a missing file holds nothing."""

    name = "dotenv"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._values: dict[str, str | None] | None = None
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        if self._values is None:
            with self._lock:
                if self._values is None:
                    self._values = self._read()
        return _present(self._values.get(key))

    def _read(self) -> dict[str, str | None]:
        if not self.path.is_file():
            return {}
        from dotenv import dotenv_values

        return dict(dotenv_values(self.path, encoding="utf-8"))

    def where(self, key: str) -> str:
        """Where ``key`` is read from, for messages."""
        return f"{key} in {self.path}"

    def __repr__(self) -> str:
        return f"DotenvSource({str(self.path)!r})"


def _plain_file_name(key: str) -> bool:
    """Whether ``key`` can only name a file directly inside a directory."""
    return bool(key) and key not in (".", "..") and not any(c in key for c in "/\\\0")


class SecretsDirSource:
    """A directory with one file per secret (``/run/secrets/DB_PASSWORD``).

    The file name is the secret name; one trailing newline (``\\n`` or ``\\r\\n``) is
    stripped (the resolver refuses any other line break: ``tok\\n\\n`` is an error).
    Names holding a path separator, ``.``/``..`` or NUL are never looked up (``get``
    returns ``None``), so a secret name cannot reach outside the directory.
    Files are read at each lookup, so rotated secrets are picked up.
    """

    name = "dir"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def get(self, key: str) -> str | None:
        if not _plain_file_name(key):
            return None
        try:
            text = (self.path / key).read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except UnicodeDecodeError:
            raise SecretSourceError(f"secret file {self.path / key} is not UTF-8 text") from None
        except PermissionError:
            raise SecretSourceError(f"secret file {self.path / key} is not readable") from None
        return _present(text.removesuffix("\n").removesuffix("\r"))

    def where(self, key: str) -> str:
        """Where ``key`` is read from, for messages."""
        return f"file {self.path / key}"

    def __repr__(self) -> str:
        return f"SecretsDirSource({str(self.path)!r})"


# -- AWS ---------------------------------------------------------------------------------
class _AwsSource(ABC):
    """What the two AWS sources share: a lazy client, a TTL cache, error mapping."""

    name: str
    service: str
    operation: str
    not_found: str
    """The AWS error code meaning "no such secret": the next source is asked."""
    kind: str
    """What a stored value is called, for messages (``"SSM parameter"``)."""

    def __init__(
        self,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        ttl_s: float = 300.0,
        client: Any = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self.region = region
        self.endpoint_url = endpoint_url
        self.ttl_s = ttl_s
        self._client = client
        self._clock = clock
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 client, built on first use."""
        if self._client is None:
            from runwire.providers.aws.client import build_client

            with self._lock:
                if self._client is None:
                    self._client = build_client(
                        self.service,
                        owner=type(self).__name__,
                        region_name=self.region,
                        endpoint_url=self.endpoint_url,
                    )
        return self._client

    def _lookup(self, aws_name: str) -> str | None:
        """The value stored under ``aws_name`` (cached for ``ttl_s``), or ``None``."""
        now = self._clock()
        cached = self._cache.get(aws_name)
        if cached is not None and now < cached[1]:
            return cached[0]
        from botocore.exceptions import BotoCoreError, ClientError

        from runwire.providers.aws.client import provider_error

        try:
            value = self._fetch(aws_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != self.not_found:
                raise provider_error(exc, self.service, self.operation) from None
            value = None
        except BotoCoreError as exc:
            raise provider_error(exc, self.service, self.operation) from None
        if self.ttl_s > 0:
            self._cache[aws_name] = (value, now + self.ttl_s)
        return value

    @abstractmethod
    def _fetch(self, aws_name: str) -> str | None:
        """Call AWS for ``aws_name``; botocore errors propagate to :meth:`_lookup`."""

    def where(self, key: str) -> str:
        """Where ``key`` is read from, for messages."""
        return f"{self.kind} {self.prefix}{key}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r}, region={self.region!r})"


class AwsSecretsManagerSource(_AwsSource):
    """AWS Secrets Manager: secret ``prefix + name``, its ``SecretString``.

    ``name#key`` reads secret ``prefix + name``, which must hold a JSON object, and
    returns its ``key`` (a non-string value as JSON text); a missing key is ``None``.
    One lookup per secret serves all its keys while cached.
    """

    name = "aws_secretsmanager"
    service = "secretsmanager"
    operation = "GetSecretValue"
    not_found = "ResourceNotFoundException"
    kind = "Secrets Manager secret"

    def get(self, key: str) -> str | None:
        secret, _, field = key.partition("#")
        aws_name = self.prefix + secret
        text = self._lookup(aws_name)
        if text is None or not field:
            return _present(text)
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise SecretSourceError(
                f"{key}: Secrets Manager secret {aws_name} is not a JSON object, so "
                f"'#{field}' cannot select a key from it"
            )
        value = data.get(field)
        if value is None or isinstance(value, str):
            return _present(value)
        return orjson.dumps(value).decode()

    def _fetch(self, aws_name: str) -> str | None:
        response = self.client.get_secret_value(SecretId=aws_name)
        if "SecretString" not in response:
            raise SecretSourceError(
                f"Secrets Manager secret {aws_name} holds SecretBinary; runwire reads "
                "SecretString only"
            )
        return response["SecretString"]


class AwsSsmSource(_AwsSource):
    """SSM Parameter Store: parameter ``prefix + name``, decrypted (``SecureString``)."""

    name = "aws_ssm"
    service = "ssm"
    operation = "GetParameter"
    not_found = "ParameterNotFound"
    kind = "SSM parameter"

    def get(self, key: str) -> str | None:
        return _present(self._lookup(self.prefix + key))

    def _fetch(self, aws_name: str) -> str | None:
        response = self.client.get_parameter(Name=aws_name, WithDecryption=True)
        return response["Parameter"]["Value"]


# -- the resolver ----------------------------------------------------------------------
_CONTROL_HINTS = {
    "dir": "a secret file holds one line (one trailing newline is fine): remove the other "
    "line breaks; printf '%s' VALUE > FILE writes it with none",
    "dotenv": "write the value on one line, without \\n escapes",
}
"""Fix hints by source name; other sources get :data:`_CONTROL_HINT`."""

_CONTROL_HINT = (
    "store the value as one line of text, with no trailing newline "
    "(multi-line material such as a PEM key: store it base64-encoded)"
)


def checked_secret(key: str, source: SecretSource, value: str) -> str:
    """``value`` if it is one line of text (then registered for masking), else a
    :class:`SecretSourceError` naming ``key``, its source and the character found."""
    what = unprintable(value)
    if what is not None:
        describe = getattr(source, "where", None)
        where = describe(key) if describe is not None else key
        raise SecretSourceError(
            f"secret {key} ({where}, source {source.name!r}) holds {what}; secret values "
            "must be one line of text",
            hint=_CONTROL_HINTS.get(source.name, _CONTROL_HINT),
            secret=key,
        )
    register_secret(value)
    return value


class SecretResolver(Mapping[str, str]):
    """Secrets by name, from the first source that has each (what the loader gets as
    ``secrets_map``).

    It keeps no values: every lookup asks the sources again (the AWS ones cache). Each
    value is checked and registered for masking (:func:`checked_secret`).
    Iteration and ``len`` cover the names resolved so far; :meth:`origin` tells which
    source answered. The repr shows source and secret names, never values.
    """

    def __init__(self, sources: Sequence[SecretSource]) -> None:
        self.sources = tuple(sources)
        self._origins: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        for source in self.sources:
            value = source.get(key)
            if value is not None:
                value = checked_secret(key, source, value)
                self._origins[key] = source.name
                return value
        raise KeyError(key)

    def origin(self, key: str) -> str | None:
        """The name of the source that answered for ``key`` (looking it up if need be),
        or ``None`` when no source has it."""
        if key not in self._origins:
            try:
                self[key]
            except KeyError:
                return None
        return self._origins[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._origins))

    def __len__(self) -> int:
        return len(self._origins)

    def __repr__(self) -> str:
        names = ", ".join(source.name for source in self.sources)
        return f"SecretResolver(sources=[{names}], resolved={sorted(self._origins)})"


_BUILDERS: dict[str, Callable[[RunwireSettings, Mapping[str, str]], SecretSource]] = {
    "explicit": lambda settings, explicit: ExplicitSource(explicit),
    "env": lambda settings, explicit: EnvSource(),
    "dotenv": lambda settings, explicit: DotenvSource(settings.secrets.dotenv_file),
    "dir": lambda settings, explicit: SecretsDirSource(settings.secrets.dir),
    "aws_secretsmanager": lambda settings, explicit: AwsSecretsManagerSource(
        settings.secrets.secretsmanager_prefix,
        settings.secrets.aws_region,
        settings.secrets.aws_endpoint_url,
        settings.secrets.ttl_s,
    ),
    "aws_ssm": lambda settings, explicit: AwsSsmSource(
        settings.secrets.ssm_prefix,
        settings.secrets.aws_region,
        settings.secrets.aws_endpoint_url,
        settings.secrets.ttl_s,
    ),
}
"""Source name -> how to build it from the settings (and the explicit map)."""


def secret_resolver(
    settings: RunwireSettings, explicit: Mapping[str, str] | None = None
) -> SecretResolver:
    """The resolver of ``settings.secrets.order``; ``explicit`` is the ``explicit``
    source's map (empty when ``None``)."""
    given = explicit if explicit is not None else {}
    return SecretResolver([_BUILDERS[name](settings, given) for name in settings.secrets.order])


def deployment_secrets() -> SecretResolver | None:
    """The resolver ``runwire serve`` would use, from the current settings (for
    ``runwire validate`` of a deployment), or ``None`` when the settings do not load
    (the settings check reports that)."""
    from pydantic import ValidationError

    from runwire.deploy.settings import load_settings

    try:
        return secret_resolver(load_settings())
    except (ValidationError, RunwireError, ValueError):
        return None
