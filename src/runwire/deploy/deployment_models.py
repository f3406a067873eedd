"""The models of ``runwire.yaml``: what each key of the deployment file accepts.

:mod:`runwire.deploy.deployment` reads the file into these; their JSON Schema is
docs/deployment.schema.json.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from runwire.loader.source import secret_name
from runwire.schema.trust import make_trust

__all__ = [
    "RESERVED_NAMES",
    "AllowedObjectsSpec",
    "CheckpointerSpec",
    "DeploymentFile",
    "EnvironmentOverlay",
    "PipelineOverlay",
    "PipelineSpec",
    "PostgresCheckpointer",
    "ServerLimits",
    "SqliteCheckpointer",
    "check_pipeline_name",
    "short_form",
]

RESERVED_NAMES = frozenset(("healthz", "readyz", "metrics", "docs", "openapi.json"))
"""Routes of the server itself: no pipeline may take these names."""
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_NAME_SCHEMA = {"pattern": f"^{_NAME.pattern}$", "not": {"enum": sorted(RESERVED_NAMES)}}
_ALLOWED_WORDS = ("all", "core", "messages")


def check_pipeline_name(name: str) -> str:
    """``name`` when it can be a route (URL-safe, not one of the server's own), else ValueError."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"pipeline name {name!r} is not URL-safe: use letters, digits, '_' and '-'"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"pipeline name {name!r} is reserved for the server's own /{name} route")
    return name


def _check_allowed(value: Any) -> Any:
    """``allowed_objects``: one of the words, or a non-empty list of class names."""
    if value in _ALLOWED_WORDS:
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return value
    raise ValueError("expected 'all', 'core', 'messages' or a list of class names")


def short_form(value: Any) -> Any:
    """``name: path`` is ``name: {path: path}``."""
    return {"path": value} if isinstance(value, str) else value


PipelineName = Annotated[str, AfterValidator(check_pipeline_name)]
AllowedObjectsSpec = Annotated[
    Literal["all", "core", "messages"] | list[str], BeforeValidator(_check_allowed)
]
_PositiveInt = Annotated[int, Field(strict=True, gt=0)]
_PositiveSeconds = Annotated[float, Field(strict=True, gt=0)]
_Seconds = Annotated[float, Field(strict=True, ge=0)]
_STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def _check_endpoint(value: str) -> str:
    make_trust(False, [value])  # raises ValueError naming the expected shape
    return value


_Endpoint = Annotated[str, AfterValidator(_check_endpoint)]


class ServerLimits(BaseModel):
    """Limits over the server settings (null or unset: the settings' value applies)."""

    model_config = _STRICT
    max_body_bytes: _PositiveInt | None = None
    """Larger request bodies get 413."""
    request_timeout_s: _PositiveSeconds | None = None
    """A request running longer gets 504."""
    max_concurrency: _PositiveInt | None = None
    """Requests in flight per worker; more get 503."""
    drain_timeout_s: _Seconds | None = None
    """On SIGTERM, how long in-flight requests may take to finish."""


def _secret_ref(value: Any) -> str:
    """The name of a secret node (``!secret NAME``); anything else is refused, unquoted."""
    name = secret_name(value)
    if not name:
        raise ValueError(
            "expected a secret, such as `dsn: !secret PG_DSN` (a DSN holds a password: "
            "never write it in the file)"
        )
    return name


_SECRET_REF_SCHEMA = {
    "description": 'A secret\'s name: {"_secret": NAME} (YAML: !secret NAME) or a wire '
    "secret node.",
    "type": "object",
    "anyOf": [
        {
            "properties": {"_secret": {"type": "string", "minLength": 1}},
            "required": ["_secret"],
            "additionalProperties": False,
        },
        {
            "properties": {
                "lc": {"const": 1},
                "type": {"const": "secret"},
                "id": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1},
            },
            "required": ["lc", "type", "id"],
            "additionalProperties": False,
        },
    ],
}
SecretRef = Annotated[
    str, BeforeValidator(_secret_ref), WithJsonSchema(_SECRET_REF_SCHEMA, mode="validation")
]
"""A secret, held by its name (resolved through the deployment's secret sources)."""
_HIDDEN = ConfigDict(**_STRICT, hide_input_in_errors=True)


class PostgresCheckpointer(BaseModel):
    """Graph checkpoints in PostgreSQL: every replica given the same DSN shares threads."""

    model_config = _HIDDEN
    dsn: SecretRef
    """The secret holding the libpq DSN or URL: ``dsn: !secret PG_DSN``."""
    min_size: _PositiveInt = 1
    """Connections the pool keeps open."""
    max_size: _PositiveInt = 10
    """Connections the pool may open."""
    timeout_s: _PositiveSeconds = 30.0
    """How long to wait for a connection."""


class SqliteCheckpointer(BaseModel):
    """Graph checkpoints in one SQLite file (one machine; the embedded default)."""

    model_config = _STRICT
    path: Path = Path(".runwire/checkpoints.db")
    """The database file, relative to the deployment file (its folder is created)."""


class CheckpointerSpec(BaseModel):
    """Where served graphs keep their threads: exactly one of `postgres` or `sqlite`
    (unset: SQLite in .runwire/checkpoints.db beside the deployment file)."""

    model_config = ConfigDict(**_HIDDEN, json_schema_extra={"minProperties": 1, "maxProperties": 1})
    postgres: PostgresCheckpointer | None = None
    sqlite: SqliteCheckpointer | None = None

    @model_validator(mode="after")
    def _one(self) -> CheckpointerSpec:
        if (self.postgres is None) == (self.sqlite is None):
            raise ValueError(
                "checkpointer takes exactly one of postgres or sqlite (an environment "
                "overlay that switches sets the other to null)"
            )
        return self


class PipelineSpec(BaseModel):
    """One pipeline: its manifest, manifest overlays, what clients may configure."""

    model_config = _STRICT
    path: Path
    """The manifest, relative to the deployment file."""
    overlays: list[Path] = Field(default_factory=list)
    """Manifest overlays, deep-merged over it in order."""
    configurable: list[str] = Field(default_factory=list)
    """Configurable ids clients may set (default: none)."""
    allowed_objects: AllowedObjectsSpec | None = None
    """'all', 'core' (no providers), 'messages' or class names; default: the top level's."""
    trusted: bool | None = None
    """false: load as untrusted (no ambient credentials, endpoints only AWS's own or
    allowed_endpoints); default: the top level's."""
    allowed_endpoints: list[_Endpoint] = Field(default_factory=list)
    """Endpoints an untrusted pipeline may call, besides the top level's."""


class PipelineOverlay(BaseModel):
    """A pipeline in an environment overlay: every key optional (null removes one)."""

    model_config = _STRICT
    path: Path | None = None
    overlays: list[Path] | None = None
    configurable: list[str] | None = None
    allowed_objects: AllowedObjectsSpec | None = None
    trusted: bool | None = None
    allowed_endpoints: list[_Endpoint] | None = None


def _short(model: type[BaseModel]) -> BeforeValidator:
    """Accepts ``name: path`` for ``name: {path: path}`` (and says so in the schema)."""
    return BeforeValidator(short_form, json_schema_input_type=str | model)


def _pipelines_field(required: bool) -> Any:
    return Field(
        ... if required else None,
        min_length=1 if required else None,
        json_schema_extra={"propertyNames": _NAME_SCHEMA},
    )


_Pipelines = dict[PipelineName, Annotated[PipelineSpec, _short(PipelineSpec)]]
_OverlayPipelines = dict[PipelineName, Annotated[PipelineOverlay, _short(PipelineOverlay)] | None]


class EnvironmentOverlay(BaseModel):
    """An environment: deep-merged over the top level when RUNWIRE_ENV names it."""

    model_config = _STRICT
    allowed_objects: AllowedObjectsSpec | None = None
    trusted: bool | None = None
    allowed_endpoints: list[_Endpoint] | None = None
    server: ServerLimits | None = None
    pipelines: _OverlayPipelines | None = _pipelines_field(required=False)
    checkpointer: CheckpointerSpec | None = None


class DeploymentFile(BaseModel):
    """A runwire deployment: pipelines by name, per-environment overlays selected by
    RUNWIRE_ENV, configurable ids clients may set, allowed_objects, server limits."""

    model_config = ConfigDict(**_STRICT, title="runwire deployment (runwire.yaml)")
    allowed_objects: AllowedObjectsSpec = "all"
    """Classes manifests may build: 'all', 'core' (no providers), 'messages' or class names."""
    trusted: bool = True
    """Whether manifests are the deployer's own (ambient credentials, any endpoint); set
    false for manifests others wrote (see docs/security.md)."""
    allowed_endpoints: list[_Endpoint] = Field(default_factory=list)
    """Endpoints untrusted manifests may call besides AWS's own: origins such as
    ``https://llm.corp.example`` or ``http://127.0.0.1`` (any port)."""
    server: ServerLimits = Field(default_factory=ServerLimits)
    """Limits over the server settings."""
    pipelines: _Pipelines = _pipelines_field(required=True)
    """Name (the route: /<name>/invoke) -> manifest path, or a mapping with `path`."""
    environments: dict[str, EnvironmentOverlay] = Field(default_factory=dict)
    """Overlays by environment name; RUNWIRE_ENV selects one."""
    checkpointer: CheckpointerSpec | None = None
    """Where served graphs keep their threads: ``{postgres: {dsn: !secret PG_DSN}}`` or
    ``{sqlite: {path: ...}}``; default: SQLite beside the deployment file."""
