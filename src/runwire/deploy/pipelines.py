"""A deployment's pipelines, built: manifests loaded with their secrets, checked for serving.

Secrets come from ``secrets`` (the deployment's :class:`~runwire.deploy.secrets.SecretResolver`)
and only into fields their class declares secret (the loader enforces that). A secret
source refusing a value (a line break in a secrets file) is reported at the secret node
that asked for it, naming the secret, never its value (and every error's text passes
through :func:`runwire.redaction.redact`, see :mod:`runwire.errors`). Clients may
set only the configurable ids the deployment allows, and never one that reaches a
credential, an endpoint, a client or a region: :data:`DENIED_CONFIGURABLE_FIELDS`.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runwire.deploy.deployment import Deployment, DeploymentError
from runwire.deploy.secrets import SecretSourceError
from runwire.errors import ManifestError, MissingSecretError, NotAllowedError, RunwireError
from runwire.loader.source import Parts, secret_name

__all__ = [
    "DENIED_CONFIGURABLE_FIELDS",
    "Pipeline",
    "build_pipeline",
    "build_pipelines",
    "denied_field",
]

DENIED_CONFIGURABLE_FIELDS: tuple[tuple[str, str], ...] = (
    ("equals", "endpoint_url"),
    ("equals", "base_url"),
    ("equals", "api_base"),
    ("equals", "client"),
    ("equals", "config"),
    ("equals", "credentials_profile_name"),
    ("equals", "history"),  # a chat history store: where conversations are kept
    ("equals", "path"),  # a file a component opens (a SQLite history)
    ("equals", "region_name"),
    ("prefix", "aws_"),
    ("contains", "api_key"),
    ("suffix", "_client"),
    ("suffix", "_url"),
    ("suffix", "_endpoint"),
)
"""Fields no client may set through ``configurable``, however the deployment is written:
(how the field name or alias matches, the text). Secret fields are refused as well."""

_MATCHES = {
    "equals": str.__eq__,
    "prefix": str.startswith,
    "suffix": str.endswith,
    "contains": str.__contains__,
}

_HINTS: dict[type[ManifestError], str] = {
    MissingSecretError: "provide it through one of the configured secret sources (env, "
    ".env, the secrets dir, AWS Secrets Manager / SSM); `runwire config show` lists them",
    NotAllowedError: "widen the pipeline's allowed_objects in the deployment file",
}
"""Hints that replace the loader's when a pipeline of a deployment fails to load."""


@dataclass(frozen=True)
class Pipeline:
    """A pipeline ready to serve."""

    name: str
    runnable: Any
    """A runwire :class:`~runwire.runtime.base.Runnable`."""
    configurable: frozenset[str]
    """The configurable ids clients may set."""
    source: Path
    """Its manifest."""


def denied_field(name: str, alias: str | None = None) -> bool:
    """Whether a field (by name or alias) is in :data:`DENIED_CONFIGURABLE_FIELDS`."""
    names = [n for n in (name, alias) if n]
    return any(_MATCHES[how](n, text) for how, text in DENIED_CONFIGURABLE_FIELDS for n in names)


def _allowed(spec_allowed: Any) -> Any:
    """``allowed_objects`` for the loader: a group name, or the classes of listed names."""
    from runwire.loader.registry import class_for, entry_by_name

    if isinstance(spec_allowed, str):
        return spec_allowed
    classes = []
    for name in spec_allowed:
        entry = entry_by_name(name)
        if entry is None:
            raise ValueError(f"unknown class {name!r} in allowed_objects")
        classes.append(class_for(entry))
    return classes


def _refusal(runnable: Any, configurable_id: str) -> str | None:
    """Why clients may not set ``configurable_id`` (a secret or connection field), or None."""
    from runwire.loader.checks import iter_nodes
    from runwire.runtime.configurable import RunnableConfigurableFields

    for node in iter_nodes(runnable):
        if not isinstance(node.obj, RunnableConfigurableFields):
            continue
        owner = node.obj.default
        secrets = getattr(owner, "lc_secrets", {})
        for field, spec in node.obj.fields.items():
            full = spec.id if spec.is_shared else node.scope + spec.id
            if full != configurable_id:
                continue
            info = type(owner).model_fields.get(field)
            alias = info.alias if info is not None else None
            where = f"field {field!r} of {type(owner).__name__}"
            if field in secrets or (alias is not None and alias in secrets):
                return f"it sets the secret {where}"
            if denied_field(field, alias):
                return (
                    f"it sets the connection {where} (credentials, endpoints, clients and "
                    "regions are fixed by the deployment)"
                )
    return None


def _check_configurable(
    deployment: Deployment, name: str, runnable: Any, allowed: list[str]
) -> None:
    try:
        declared = sorted({spec.id for spec in runnable.config_specs})
    except ValueError as exc:
        at = ("pipelines", name)
        raise deployment.error_at(at, f"pipeline {name}: {exc}", pipeline=name) from None
    for index, configurable_id in enumerate(allowed):
        at = ("pipelines", name, "configurable", index)
        if configurable_id not in declared:
            near = difflib.get_close_matches(configurable_id, declared, n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            hint += f"it declares: {', '.join(declared)}" if declared else "it declares none"
            raise deployment.error_at(
                at,
                f"pipeline {name}: configurable {configurable_id!r} is not declared by the "
                "pipeline",
                hint=hint,
                pipeline=name,
            )
        why = _refusal(runnable, configurable_id)
        if why is not None:
            raise deployment.error_at(
                at,
                f"pipeline {name}: clients may not set configurable {configurable_id!r}: {why}",
                hint="remove it from `configurable`",
                pipeline=name,
            )


def build_pipeline(
    deployment: Deployment,
    name: str,
    secrets: Mapping[str, str],
    *,
    env: Mapping[str, str] | None = None,
    keep_unset: bool = False,
) -> Pipeline:
    """Load and check one pipeline of ``deployment``.

    ``env`` is where ``${VAR}`` reads from (default ``os.environ``); ``keep_unset`` leaves
    unset ones as written (for validation). Raises :class:`DeploymentError` naming the
    pipeline, with the manifest's file, path and line when the manifest is at fault.
    """
    from runwire.loader.files import Manifest
    from runwire.runtime.base import Runnable

    spec = deployment.pipelines[name]
    try:
        allowed = _allowed(spec.allowed_objects or deployment.allowed_objects)
    except ValueError as exc:
        raise deployment.error_at(
            ("pipelines", name, "allowed_objects"), f"pipeline {name}: {exc}", pipeline=name
        ) from None
    prefix = f"pipeline {name}: "
    manifest = None
    try:
        manifest = Manifest.read([_shown(p) for p in (spec.path, *spec.overlays)])
        runnable = manifest.build(
            env=env,
            keep_unset=keep_unset,
            secrets_map=secrets,
            allowed_objects=allowed,
            trusted=spec.trusted is not False,
            allowed_endpoints=spec.allowed_endpoints,
        )
    except SecretSourceError as exc:
        raise _refused_secret(exc, manifest, spec.path, name) from None
    except ManifestError as exc:
        error = DeploymentError.wrap(exc, prefix, pipeline=name)
        error.hint = _HINTS.get(type(exc), error.hint)
        raise error from exc
    except RunwireError as exc:  # a provider refusing its settings
        raise DeploymentError(prefix + str(exc), file=_shown(spec.path), pipeline=name) from exc
    if not isinstance(runnable, Runnable):
        raise DeploymentError(
            f"{prefix}{_shown(spec.path)} builds a {type(runnable).__name__}, not a runnable",
            hint="a served manifest is a pipeline: a sequence, a prompt, a model, ...",
            file=_shown(spec.path),
            pipeline=name,
        )
    _check_configurable(deployment, name, runnable, spec.configurable)
    return Pipeline(name, runnable, frozenset(spec.configurable), spec.path)


def build_pipelines(
    deployment: Deployment, secrets: Mapping[str, str], *, env: Mapping[str, str] | None = None
) -> dict[str, Pipeline]:
    """Every pipeline of ``deployment``, built (stops at the first one that fails, but
    names every secret that is not set, of every pipeline, at once)."""
    missing = [
        problem
        for name in deployment.pipelines
        for problem in _missing_secrets(deployment, name, secrets)
    ]
    if missing:
        first, *more = missing
        if more:
            listed = "".join(
                f"\n  {problem.location}: {problem.path}: {problem.message}" for problem in more
            )
            first.message += f"; {len(more)} more secret(s) are not set:{listed}"
            first.hint = first.hint.replace("provide it", "provide them", 1)
        raise first
    return {
        name: build_pipeline(deployment, name, secrets, env=env) for name in deployment.pipelines
    }


def _missing_secrets(
    deployment: Deployment, name: str, secrets: Mapping[str, str]
) -> list[DeploymentError]:
    """An error per secret node of pipeline ``name`` that ``secrets`` does not have (a
    manifest that cannot be read is left to :func:`build_pipeline` to report)."""
    from runwire.loader.files import Manifest

    spec = deployment.pipelines[name]
    try:
        manifest = Manifest.read([_shown(p) for p in (spec.path, *spec.overlays)])
        return _secret_problems(manifest, name, secrets)
    except RunwireError:  # a secret source's refusal too: the build reports it
        return []


def _secret_problems(manifest: Any, name: str, secrets: Mapping[str, str]) -> list[DeploymentError]:
    """An error per secret node of ``manifest`` (pipeline ``name``) not in ``secrets``."""
    problems = []
    for secret, parts, owner in _secret_refs(manifest.data, (), "the manifest"):
        if secret in secrets:
            continue
        file, line, column = manifest.source.locate(parts)
        problems.append(
            DeploymentError(
                f"pipeline {name}: secret {secret} for field {parts[-1]!r} of {owner} is not set",
                path=parts,
                hint=_HINTS[MissingSecretError],
                file=file,
                line=line,
                column=column,
                pipeline=name,
            )
        )
    return problems


def _refused_secret(
    exc: SecretSourceError, manifest: Any, path: Path, name: str
) -> DeploymentError:
    """A secret source's refusal as a DeploymentError at the (first) node naming the secret."""
    where: dict[str, Any] = {"file": _shown(path)}
    refs = _secret_refs(manifest.data, (), "the manifest") if manifest is not None else ()
    for secret, parts, _owner in refs:
        if secret == exc.secret:
            file, line, column = manifest.source.locate(parts)
            where = {"path": parts, "file": file, "line": line, "column": column}
            break
    return DeploymentError(f"pipeline {name}: {exc.message}", hint=exc.hint, pipeline=name, **where)


def _secret_refs(data: Any, at: Parts, owner: str) -> Iterator[tuple[str, Parts, str]]:
    """(secret name, path, owning class) of every secret node in a manifest's data."""
    if isinstance(data, dict):
        name = secret_name(data)
        if name is not None:
            yield name, at, owner
            return
        ident = data.get("id") if data.get("type") == "constructor" else None
        kind = data.get("_type", ident[-1] if isinstance(ident, list) and ident else owner)
        for key, value in data.items():
            yield from _secret_refs(value, (*at, key), str(kind))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _secret_refs(value, (*at, index), owner)


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the working folder when inside it."""
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if shown.startswith("..") else shown
