"""Deployment settings, read from the environment with pydantic-settings.

Where a value comes from, highest priority first:

1. keyword arguments (``load_settings(server={"port": 9000})``);
2. environment variables: prefix ``RUNWIRE_``, nested settings joined by ``__``
   (``RUNWIRE_SERVER__PORT=9000``; ``RUNWIRE_SERVER='{"port": 9000}'`` works too);
3. the ``.env`` file of the working directory (same names);
4. the settings secrets directory: one file per top-level setting, named like the
   variable in lower case (``runwire_api_keys``); the directory is
   ``RUNWIRE_SECRETS_DIR`` when set, else ``/run/secrets`` when it exists;
5. the defaults below.

``RUNWIRE_API_KEYS`` is a comma-separated list (``k1,k2``); empty items are dropped.
Invalid values raise :class:`SettingsError`, which names the variable (or file) and
what was expected, never the value. :func:`settings_report` tells, for each setting,
which of those sources set it; ``runwire config show`` prints it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import orjson
from pydantic import BaseModel, Field, SecretBytes, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as PydanticSettingsError

from runwire.errors import RunwireError
from runwire.redaction import register_secret

__all__ = [
    "MASK",
    "RunwireSettings",
    "SecretSettings",
    "ServerSettings",
    "SettingOrigin",
    "SettingsError",
    "SourceName",
    "load_settings",
    "settings_report",
    "settings_secrets_dir",
]

MASK = "**********"
"""What a secret setting is displayed as."""

SECRETS_DIR_VAR = "RUNWIRE_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")

SourceName = Literal["explicit", "env", "dotenv", "dir", "aws_secretsmanager", "aws_ssm"]
"""A secret source, as named in ``RUNWIRE_SECRETS__ORDER``."""


class SettingsError(RunwireError, ValueError):
    """Settings could not be read: each problem names the variable (or file) and what
    was expected. Values are never included, so secrets cannot leak through it.

    Attributes:
        problems: ``(where, what)`` pairs, e.g.
            ``("RUNWIRE_SERVER__PORT", "Input should be a valid integer")``.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"  {where}: {what}" for where, what in self.problems]
        return "invalid runwire settings:\n" + "\n".join(lines)


class ServerSettings(BaseModel):
    """``runwire serve``: address, workers and per-worker limits."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    """Larger request bodies get 413."""
    request_timeout_s: float = Field(default=60.0, gt=0)
    """A request running longer gets 504."""
    max_concurrency: int = Field(default=256, ge=1)
    """Requests in flight per worker; more get 503 at once instead of queueing."""
    drain_timeout_s: float = Field(default=30.0, ge=0)
    """On SIGTERM, how long to wait for in-flight requests."""
    max_header_bytes: int = Field(default=65_536, gt=0)
    """A request line plus headers larger than this gets 431 and the connection closed."""
    header_timeout_s: float = Field(default=10.0, gt=0)
    """Time to receive a request's line and headers, from its first byte (or from the
    connection's opening); slower clients are disconnected."""
    body_timeout_s: float = Field(default=30.0, gt=0)
    """Time to receive a whole request body; slower clients get 408. The body is read
    before the request takes one of the ``max_concurrency`` slots."""
    keep_alive_timeout_s: float = Field(default=75.0, gt=0)
    """How long an idle keep-alive connection stays open. Keep it longer than clients'
    and proxies' idle timeouts (httpx: 5 s, AWS ALB: 60 s), so a client never sends a
    request on a connection the server is closing at that moment."""
    max_json_depth: int = Field(default=100, ge=1)
    """Request bodies nested deeper than this get 422."""
    offload: Literal["configurable", "always", "never"] = "configurable"
    """Which requests run on worker threads instead of the event loop: those setting
    ``configurable`` values (client-chosen templates may be CPU-bound), all, or none.
    Off the loop, the request timeout holds even for CPU-bound steps."""
    access_log: bool = True
    """One JSON line per request on stderr (``--no-access-log`` or false: none)."""
    otel: bool | None = None
    """OpenTelemetry spans of runs and steps (the ``otel`` extra): true, false, or unset
    for on exactly when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set."""
    otel_record_io: bool = False
    """Also put each run's inputs and outputs on its span, truncated. Off by default:
    they may hold personal data."""


class SecretSettings(BaseModel):
    """Where pipeline secrets come from (see :mod:`runwire.deploy.secrets`)."""

    order: Annotated[list[SourceName], NoDecode] = ["explicit", "env", "dotenv", "dir"]
    """Sources tried in this order; the first that has a secret wins. From the
    environment: ``RUNWIRE_SECRETS__ORDER=env,dir`` (or a JSON list)."""
    dotenv_file: Path = Path(".env")
    dir: Path = Path("/run/secrets")
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    secretsmanager_prefix: str = ""
    """Secret ``X`` is looked up in Secrets Manager as ``prefix + "X"``."""
    ssm_prefix: str = ""
    """Secret ``X`` is looked up in SSM Parameter Store as ``prefix + "X"``."""
    ttl_s: float = 300.0
    """How long AWS lookups are cached."""

    @field_validator("order", mode="before")
    @classmethod
    def _split_order(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                try:
                    return orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise ValueError("expected a JSON list or comma-separated names") from None
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("order")
    @classmethod
    def _no_repeats(cls, order: list[str]) -> list[str]:
        repeated = sorted({name for name in order if order.count(name) > 1})
        if repeated:
            raise ValueError(f"each source may appear once; repeated: {', '.join(repeated)}")
        return order


def settings_secrets_dir() -> Path | None:
    """The settings secrets directory: ``RUNWIRE_SECRETS_DIR``, else ``/run/secrets``
    when it exists, else ``None``."""
    configured = os.environ.get(SECRETS_DIR_VAR)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise SettingsError([(SECRETS_DIR_VAR, f"{path} is not a directory")])
        return path
    return DEFAULT_SECRETS_DIR if DEFAULT_SECRETS_DIR.is_dir() else None


class RunwireSettings(BaseSettings):
    """Everything ``runwire serve`` reads from its environment (see the module docs)."""

    model_config = SettingsConfigDict(
        env_prefix="RUNWIRE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: str | None = None
    """``RUNWIRE_ENV``: the ``environments`` entry of runwire.yaml to apply."""
    deployment: Path | None = None
    """``RUNWIRE_DEPLOYMENT``: the runwire.yaml ``serve`` uses by default."""
    api_keys: Annotated[list[SecretStr], NoDecode] = []
    """``RUNWIRE_API_KEYS="k1,k2"``: keys clients must send; none = no auth."""
    log_level: str = "info"
    server: ServerSettings = Field(default_factory=ServerSettings)
    secrets: SecretSettings = Field(default_factory=SecretSettings)

    def __init__(self, **values: Any) -> None:
        _build(lambda: super(RunwireSettings, self).__init__(**values), type(self), values)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            stripped = (item.strip() if isinstance(item, str) else item for item in items)
            return [item for item in stripped if item != ""]
        return items

    @field_validator("api_keys")
    @classmethod
    def _mask_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        """API keys are masked wherever they might be echoed (logs, errors)."""
        for key in keys:
            register_secret(key.get_secret_value())
        return keys

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual four sources; the secrets directory is found when settings are read."""
        given = getattr(file_secret_settings, "secrets_dir", None)
        if given is None:
            file_secret_settings = SecretsSettingsSource(
                settings_cls, secrets_dir=settings_secrets_dir()
            )
        return init_settings, env_settings, dotenv_settings, file_secret_settings


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _drop_none(value) if isinstance(value, Mapping) else value
        for key, value in values.items()
        if value is not None
    }


def load_settings(**overrides: Any) -> RunwireSettings:
    """The settings, ``overrides`` first (nested ones as dicts: ``server={"port": 9000}``).

    Overrides that are ``None`` are left out, so command-line options that were not
    given can be passed straight through.
    """
    return RunwireSettings(**_drop_none(overrides))


# -- where each value came from ---------------------------------------------------------
class SettingOrigin(NamedTuple):
    """One row of :func:`settings_report`."""

    name: str
    """Dotted name, e.g. ``server.port``."""
    value: str
    """Display value; secrets are masked."""
    origin: str
    """``default``, ``init``, ``env RUNWIRE_SERVER__PORT``, ``.env`` or
    ``secrets dir <file>``."""


class _Where(NamedTuple):
    label: str  # for the report
    variable: str  # for error messages


_Parts = tuple[str, ...]


def _sets(data: Any, parts: _Parts) -> bool:
    """Whether a source's data sets ``parts``: the path itself, or a whole (non-dict)
    value at one of its ancestors, which replaces everything below it."""
    node = data
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, Mapping):
            return True
    return True


def _variable(source: EnvSettingsSource, parts: _Parts) -> str:
    """The environment variable that set ``parts``: the nested one, or an ancestor's
    JSON value (``RUNWIRE_SERVER__PORT`` or ``RUNWIRE_SERVER``)."""
    depth = range(len(parts), 0, -1) if source.env_nested_delimiter else (1,)
    names = [source.env_prefix + (source.env_nested_delimiter or "").join(parts[:k]) for k in depth]
    found = next(
        (n for n in names if source._apply_case_sensitive(n) in source.env_vars), names[-1]
    )
    return found if source.case_sensitive else found.upper()


def _env_where(source: Any, parts: _Parts) -> _Where:
    variable = _variable(source, parts)
    return _Where(f"env {variable}", variable)


def _dotenv_where(source: Any, parts: _Parts) -> _Where:
    variable = _variable(source, parts)
    return _Where(".env", f"{variable} in {source.env_file}")


def _secrets_where(source: Any, parts: _Parts) -> _Where:
    name = source.env_prefix + parts[0]
    dirs = source.secrets_dir
    dirs = [dirs] if isinstance(dirs, str | os.PathLike) else list(dirs or [])
    for directory in reversed([Path(d).expanduser() for d in dirs]):
        found = directory.is_dir() and source.find_case_path(directory, name, source.case_sensitive)
        if found:
            return _Where(f"secrets dir {found}", f"secret file {found}")
    return _Where("secrets dir", f"secret file {name}")


def _init_where(source: Any, parts: _Parts) -> _Where:
    return _Where("init", f"argument {'.'.join(parts)}")


_WHERE: tuple[tuple[type, Callable[[Any, _Parts], _Where]], ...] = (
    (InitSettingsSource, _init_where),
    (DotEnvSettingsSource, _dotenv_where),  # before EnvSettingsSource: it is a subclass
    (EnvSettingsSource, _env_where),
    (SecretsSettingsSource, _secrets_where),
)
"""How each kind of source reports where a value came from."""


def _describe(source: PydanticBaseSettingsSource, parts: _Parts) -> _Where:
    for kind, where in _WHERE:
        if isinstance(source, kind):
            return where(source, parts)
    name = type(source).__name__
    return _Where(name, f"{'.'.join(parts)} from {name}")


def _source_list(
    settings_cls: type[BaseSettings], init: Mapping[str, Any]
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The class's sources in priority order, built the way ``BaseSettings`` builds them."""
    return settings_cls.settings_customise_sources(
        settings_cls,
        init_settings=InitSettingsSource(settings_cls, init_kwargs=dict(init)),
        env_settings=EnvSettingsSource(settings_cls),
        dotenv_settings=DotEnvSettingsSource(settings_cls),
        file_secret_settings=SecretsSettingsSource(settings_cls),
    )


def _sources(
    settings_cls: type[BaseSettings], init: Mapping[str, Any]
) -> list[tuple[PydanticBaseSettingsSource, dict[str, Any]]]:
    """The class's sources in priority order, each with the data it provides."""
    return [(source, source()) for source in _source_list(settings_cls, init)]


def _where(
    sources: Sequence[tuple[PydanticBaseSettingsSource, dict[str, Any]]], parts: _Parts
) -> _Where:
    for source, data in sources:
        if _sets(data, parts):
            return _describe(source, parts)
    return _Where("default", ".".join(parts))


# -- errors -------------------------------------------------------------------------------
_SOURCE_FAILURE = re.compile(r'field "(?P<field>\w+)" from source "(?P<source>\w+)"')


def _source_error(
    settings_cls: type[BaseSettings], init: Mapping[str, Any], exc: PydanticSettingsError
) -> SettingsError:
    """A source could not parse a value (e.g. bad JSON in ``RUNWIRE_SERVER``)."""
    found = _SOURCE_FAILURE.search(str(exc))
    if found is None:
        return SettingsError([("settings", str(exc))])
    parts = (found["field"],)
    try:
        sources = _source_list(settings_cls, init)
    except (PydanticSettingsError, SettingsError):
        sources = ()
    named = [s for s in sources if type(s).__name__ == found["source"]]
    where = _describe(named[0], parts).variable if named else f"{parts[0]} ({found['source']})"
    return SettingsError([(where, "expected a JSON value (or nested __ variables)")])


def _validation_error(
    settings_cls: type[BaseSettings], init: Mapping[str, Any], exc: ValidationError
) -> SettingsError:
    """Each error of ``exc`` with the variable that set the value; never the value."""
    try:
        sources = _sources(settings_cls, init)
    except (PydanticSettingsError, SettingsError):
        sources = []
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(str(part) for part in error["loc"])
        fields = tuple(part for part in error["loc"] if isinstance(part, str)) or ("settings",)
        variable = _where(sources, fields).variable
        dotted, field_dotted = ".".join(loc), ".".join(fields)
        if variable.endswith(field_dotted):  # init and default name the setting itself
            where = variable.removesuffix(field_dotted) + dotted
        else:
            where = f"{variable} ({dotted})"
        message = error["msg"].removeprefix("Value error, ")
        problems.append((where, message))
    return SettingsError(problems)


def _build(
    make: Callable[[], Any], settings_cls: type[BaseSettings], init: Mapping[str, Any]
) -> Any:
    """Run ``make`` (which builds settings) with pydantic's errors made runwire errors.

    ``from None``: pydantic's messages quote input values, which may be secrets.
    """
    try:
        return make()
    except ValidationError as exc:
        raise _validation_error(settings_cls, init, exc) from None
    except PydanticSettingsError as exc:
        raise _source_error(settings_cls, init, exc) from None


# -- the report ---------------------------------------------------------------------------
def _is_secret(value: Any) -> bool:
    return isinstance(value, SecretStr | SecretBytes)


def _display(name: str, value: Any) -> str:
    if _is_secret(value):
        return MASK
    if isinstance(value, list | tuple) and any(_is_secret(item) for item in value):
        noun = "key" if name.endswith("keys") else "value"
        count = len(value)
        return f"{MASK} ({count} {noun}{'' if count == 1 else 's'})"
    if isinstance(value, str | Path) and str(value):
        return str(value)
    return orjson.dumps(value, default=str).decode()


def _leaves(model: BaseModel, prefix: _Parts = ()) -> list[tuple[_Parts, Any]]:
    rows: list[tuple[_Parts, Any]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            rows.extend(_leaves(value, (*prefix, name)))
        else:
            rows.append(((*prefix, name), value))
    return rows


def settings_report(
    settings_cls: type[BaseSettings] = RunwireSettings, **init: Any
) -> list[SettingOrigin]:
    """One row per leaf setting of ``settings_cls(**init)``: dotted name, display value
    (secrets masked) and origin, found by asking the class's sources in priority order
    (init, environment, .env, secrets directory) which of them sets it."""
    settings = _build(lambda: settings_cls(**init), settings_cls, init)
    sources = _build(lambda: _sources(settings_cls, init), settings_cls, init)
    return [
        SettingOrigin(".".join(parts), _display(parts[-1], value), _where(sources, parts).label)
        for parts, value in _leaves(settings)
    ]
