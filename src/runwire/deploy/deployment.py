"""The deployment file ``runwire.yaml``: which pipelines a server runs, and how.

``pipelines`` maps names (the routes: ``/<name>/invoke``) to manifests, as a path or
``{path, overlays, configurable, allowed_objects}``; ``allowed_objects`` and ``server``
limits apply to all; ``environments.<RUNWIRE_ENV>`` is deep-merged over the top level.
See docs/deployment.schema.json. Every problem is a :class:`DeploymentError` naming the
file, the JSON path and the line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
)

from runwire.deploy.deployment_models import (
    RESERVED_NAMES,
    AllowedObjectsSpec,
    CheckpointerSpec,
    DeploymentFile,
    EnvironmentOverlay,
    PipelineOverlay,
    PipelineSpec,
    PostgresCheckpointer,
    ServerLimits,
    SqliteCheckpointer,
    check_pipeline_name,
    short_form,
)
from runwire.errors import ManifestError
from runwire.loader.source import Parts, Source, compose, deep_merge, read_yaml_tree

__all__ = [
    "DEPLOYMENT_FILE_NAMES",
    "RESERVED_NAMES",
    "Deployment",
    "DeploymentError",
    "PipelineSpec",
    "ServerLimits",
    "deployment_for_files",
    "deployment_json_schema",
    "deployment_problems",
    "is_deployment_file",
    "read_deployment",
]

DEPLOYMENT_FILE_NAMES = ("runwire.yaml", "runwire.yml")
_MAX_FILE_BYTES = 1_048_576  # is_deployment_file reads no bigger file


class DeploymentError(ManifestError):
    """A deployment file, or a pipeline it names, is not acceptable.

    ``pipeline`` is the name of the pipeline concerned, when there is one.
    """

    def __init__(self, message: str, *, pipeline: str | None = None, **where: Any) -> None:
        self.pipeline = pipeline
        super().__init__(message, **where)

    @classmethod
    def wrap(cls, exc: ManifestError, prefix: str = "", **extra: Any) -> DeploymentError:
        """``exc`` as a DeploymentError: same place, message after ``prefix``."""
        where = {k: getattr(exc, k) for k in ("path", "hint", "file", "line", "column")}
        return cls(prefix + exc.message, **{**where, **extra})


# -- where things are in the file ------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Locator:
    """Maps a path in the (merged) data to the file: the overlay's when it set the value."""

    source: Source
    base: Any
    overlay: Any = None
    env: str | None = None

    def in_file(self, parts: Sequence[str | int]) -> Parts:
        parts = tuple(parts)
        if self.env is not None and self.overlay is not None:
            over = _depth(self.overlay, parts)
            if over and over >= _depth(self.base, parts):
                return ("environments", self.env, *parts)
        return parts

    def error(
        self, message: str, parts: Sequence[str | int], hint: str = "", **extra: Any
    ) -> DeploymentError:
        shown = self.in_file(parts)
        file, line, column = self.source.locate(shown)
        return DeploymentError(
            message, path=shown, hint=hint, file=file, line=line, column=column, **extra
        )


def _depth(data: Any, parts: Parts) -> int:
    """How many leading ``parts`` exist in ``data``."""
    found = 0
    for part in parts:
        listed = isinstance(data, list) and type(part) is int and 0 <= part < len(data)
        if not (listed or (isinstance(data, dict) and part in data)):
            break
        data = data[part]
        found += 1
    return found


# -- pydantic errors in runwire's words ------------------------------------------------
_DYNAMIC = {"pipelines": "*", "environments": "*"}  # keys whose children are names


def _shape(parts: Parts) -> Parts:
    """``("environments", "prod", "pipelines", "x", "configurable", 0)`` ->
    ``("environments", "*", "pipelines", "*", "configurable")``."""
    out: list[str | int] = []
    for index, part in enumerate(parts):
        if type(part) is int:
            continue
        previous = parts[index - 1] if index else None
        out.append(_DYNAMIC[previous] if previous in _DYNAMIC and out[-1:] != ["*"] else part)
    return tuple(out)


_KEYS: dict[Parts, tuple[str, ...]] = {
    shape: tuple(model.model_fields)
    for shape, model in (
        ((), DeploymentFile),
        (("server",), ServerLimits),
        (("pipelines", "*"), PipelineSpec),
        (("environments", "*"), EnvironmentOverlay),
        (("environments", "*", "server"), ServerLimits),
        (("environments", "*", "pipelines", "*"), PipelineOverlay),
        *(
            ((*prefix, "checkpointer", *rest), model)
            for prefix in ((), ("environments", "*"))
            for rest, model in (
                ((), CheckpointerSpec),
                (("postgres",), PostgresCheckpointer),
                (("sqlite",), SqliteCheckpointer),
            )
        ),
    )
}
"""The keys each mapping of the file accepts (for did-you-mean hints)."""

_ALLOWED_TEXT = "'all', 'core', 'messages' or a list of class names"
_ENDPOINTS_TEXT = "a list of origins such as https://llm.corp.example or http://127.0.0.1"
_EXPECTED: dict[Parts, str] = {
    (): "a mapping with `pipelines:`",
    ("allowed_objects",): _ALLOWED_TEXT,
    ("server",): "a mapping of server limits",
    ("server", "max_body_bytes"): "a positive integer (bytes)",
    ("server", "request_timeout_s"): "a positive number of seconds",
    ("server", "max_concurrency"): "a positive integer",
    ("server", "drain_timeout_s"): "a number of seconds, 0 or more",
    ("pipelines",): "a mapping of pipeline names to manifests, with at least one pipeline",
    ("pipelines", "*"): "a manifest path, or a mapping with `path`",
    ("pipelines", "*", "path"): "a manifest file path",
    ("pipelines", "*", "overlays"): "a list of manifest file paths",
    ("pipelines", "*", "configurable"): "a list of strings",
    ("pipelines", "*", "allowed_objects"): _ALLOWED_TEXT,
    ("trusted",): "true or false",
    ("allowed_endpoints",): _ENDPOINTS_TEXT,
    ("pipelines", "*", "trusted"): "true or false",
    ("pipelines", "*", "allowed_endpoints"): _ENDPOINTS_TEXT,
    ("environments",): "a mapping of environment names to overlays",
    ("environments", "*"): "a mapping: an overlay of allowed_objects, server and pipelines",
    ("checkpointer",): "a mapping with `postgres:` or `sqlite:`",
    ("checkpointer", "postgres"): "a mapping with `dsn: !secret NAME`",
    ("checkpointer", "postgres", "min_size"): "a positive integer",
    ("checkpointer", "postgres", "max_size"): "a positive integer",
    ("checkpointer", "postgres", "timeout_s"): "a positive number of seconds",
    ("checkpointer", "sqlite"): "a mapping with `path:`",
    ("checkpointer", "sqlite", "path"): "a database file path",
}
"""What each place of the file expects, for type errors (overlays mirror the top level)."""


_KINDS = ((bool, "true/false"), (str, "a string"), ((int, float), "a number"))
_KINDS += ((dict, "a mapping"), (list, "a list"))


def _kind(value: Any) -> str:
    """A few words for a value's type (never the value: it may be sensitive)."""
    if value is None:
        return "null"
    return next((text for cls, text in _KINDS if isinstance(value, cls)), type(value).__name__)


def _translate(error: Any) -> tuple[Parts, str, str]:
    """(path, message, hint) of one pydantic error."""
    loc: Parts = tuple(error["loc"])
    kind = error["type"]
    if loc[-1:] == ("[key]",):
        loc = loc[:-1]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _KEYS.get(_shape(loc[:-1]), ())
        near = difflib.get_close_matches(key, allowed, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(near)}?" if near else f"use {', '.join(allowed)}"
        return loc, f"unknown key {key!r}", hint
    if kind == "missing":
        return loc[:-1], f"missing required key {loc[-1]!r}", ""
    if kind == "value_error":
        return loc, str(error["ctx"]["error"]), ""
    shape = _shape(loc)
    expected = _EXPECTED.get(shape[2:] if shape[:2] == ("environments", "*") else shape)
    if expected is None:
        return loc, str(error["msg"]), ""
    given = error.get("input")
    number = isinstance(given, int | float) and not isinstance(given, bool)
    return loc, f"expected {expected}, got {given if number else _kind(given)}", ""


# -- reading ---------------------------------------------------------------------------
def _read(path: Path) -> tuple[dict[str, Any], Source]:
    """The file as plain data (short pipeline forms expanded), and its positions."""
    try:
        data, source = compose([path])
    except ManifestError as exc:
        raise DeploymentError.wrap(exc) from None
    if not isinstance(data, dict):
        raise DeploymentError(
            f"expected {_EXPECTED[()]}, got {_kind(data)}",
            hint="see docs/deployment.schema.json",
            file=str(path),
            line=1,
            column=1,
        )
    return _expand(data), source


def _expand(data: dict[str, Any]) -> dict[str, Any]:
    """Short forms ``name: path`` as ``name: {path: path}``, in pipelines and overlays."""

    def pipelines(holder: Any) -> Any:
        if isinstance(holder, dict) and isinstance(holder.get("pipelines"), dict):
            expanded = {k: short_form(v) for k, v in holder["pipelines"].items()}
            return {**holder, "pipelines": expanded}
        return holder

    out = pipelines(data)
    if isinstance(out.get("environments"), dict):
        envs = {name: pipelines(overlay) for name, overlay in out["environments"].items()}
        out = {**out, "environments": envs}
    return out


def _validate(data: Any, locator: _Locator) -> tuple[DeploymentFile | None, list[DeploymentError]]:
    try:
        return DeploymentFile.model_validate(data), []
    except ValidationError as exc:
        found = []
        for error in exc.errors(include_url=False):
            parts, message, hint = _translate(error)
            found.append(locator.error(message, parts, hint))
        return None, sorted(found, key=lambda e: (e.line or 0, e.column or 0))


def _unknown_env(env: str, data: dict[str, Any], locator: _Locator) -> DeploymentError:
    known = sorted(data.get("environments") or {})
    near = difflib.get_close_matches(env, known, n=1)
    hint = f"did you mean {near[0]}? " if near else ""
    hint += f"known: {', '.join(known)}" if known else "this file defines no environments"
    return locator.error(f"unknown environment {env!r} (RUNWIRE_ENV)", ("environments",), hint)


def _semantic_problems(
    model: DeploymentFile, folder: Path, locator: _Locator
) -> Iterator[DeploymentError]:
    """Manifests that do not exist, class names that are not registered."""
    from runwire.loader.registry import entry_by_name, nearest_names

    lists = [(("allowed_objects",), model.allowed_objects)]
    for name, spec in model.pipelines.items():
        files = [(("pipelines", name, "path"), spec.path)]
        files += [(("pipelines", name, "overlays", i), p) for i, p in enumerate(spec.overlays)]
        for parts, file in files:
            if not (folder / file).is_file():
                what = "manifest" if parts[-1] == "path" else "manifest overlay"
                yield locator.error(
                    f"pipeline {name}: {what} {str(file)!r} does not exist",
                    parts,
                    f"paths are relative to the deployment file's folder {folder}",
                    pipeline=name,
                )
        lists.append((("pipelines", name, "allowed_objects"), spec.allowed_objects))
    for parts, allowed in lists:
        for index, class_name in enumerate(allowed if isinstance(allowed, list) else ()):
            if entry_by_name(class_name) is None:
                near = nearest_names([class_name])
                yield locator.error(
                    f"unknown class {class_name!r} in allowed_objects",
                    (*parts, index),
                    f"did you mean {', '.join(near)}?" if near else "use registered class names",
                )


def _check(
    path: Path, env: str | None, read: tuple[dict[str, Any], Source] | None = None
) -> tuple[Deployment | None, list[DeploymentError]]:
    """The deployment for ``env`` and every problem found on the way."""
    data, source = read or _read(path)
    folder = path.resolve().parent
    _, problems = _validate(data, _Locator(source, data))
    if problems:
        return None, problems
    if env is not None and env not in (data.get("environments") or {}):
        return None, [_unknown_env(env, data, _Locator(source, data))]
    overlay = data["environments"][env] if env is not None else None
    locator = _Locator(source, data, overlay, env)
    model, problems = _validate(deep_merge(data, overlay or {}), locator)
    if model is None:
        return None, problems
    problems = list(_semantic_problems(model, folder, locator))
    if problems:
        return None, problems
    deployment = Deployment(
        pipelines={
            name: spec.model_copy(
                update={
                    "path": _absolute(folder, spec.path),
                    "overlays": [_absolute(folder, p) for p in spec.overlays],
                    "allowed_objects": spec.allowed_objects or model.allowed_objects,
                    "trusted": model.trusted if spec.trusted is None else spec.trusted,
                    "allowed_endpoints": [*model.allowed_endpoints, *spec.allowed_endpoints],
                }
            )
            for name, spec in model.pipelines.items()
        },
        allowed_objects=model.allowed_objects,
        server=model.server,
        environments={name: data["environments"][name] for name in model.environments},
        checkpointer=_checkpointer(model.checkpointer, folder),
        source=path.resolve(),
        env=env,
    )
    deployment._locator = locator
    return deployment, []


def _absolute(folder: Path, path: Path) -> Path:
    return Path(os.path.normpath(folder / path))


def _checkpointer(spec: CheckpointerSpec | None, folder: Path) -> CheckpointerSpec:
    """The checkpointer setting, SQLite beside the file by default, its path absolute."""
    if spec is None:
        spec = CheckpointerSpec(sqlite=SqliteCheckpointer())
    if spec.sqlite is None:
        return spec
    sqlite = spec.sqlite.model_copy(update={"path": _absolute(folder, spec.sqlite.path)})
    return spec.model_copy(update={"sqlite": sqlite})


# -- the public side -------------------------------------------------------------------
class Deployment(BaseModel):
    """A deployment: the pipelines to serve, with the environment overlay applied."""

    model_config = ConfigDict(extra="forbid")

    pipelines: dict[str, PipelineSpec]
    """By name; paths absolute, ``allowed_objects``, ``trusted`` and ``allowed_endpoints``
    filled in from the top level."""
    allowed_objects: AllowedObjectsSpec = "all"
    server: ServerLimits = Field(default_factory=ServerLimits)
    environments: dict[str, Any] = Field(default_factory=dict)
    """The file's overlays as written (the selected one is already applied)."""
    checkpointer: CheckpointerSpec | None = None
    """Where served graphs keep threads (``runwire.deploy.checkpointers.open_checkpointer``
    opens it): from a file, its setting, else SQLite beside it (paths absolute); ``None``
    when manifests are served directly (the factory's default then applies)."""
    source: Path | None = None
    """The deployment file; ``None`` when manifests are served directly."""
    env: str | None = None
    """The environment applied (RUNWIRE_ENV), if any."""
    _locator: _Locator | None = PrivateAttr(None)

    def error_at(
        self,
        parts: Sequence[str | int],
        message: str,
        *,
        hint: str = "",
        pipeline: str | None = None,
    ) -> DeploymentError:
        """A :class:`DeploymentError` at ``parts`` of the deployment file (line when known)."""
        if self._locator is not None:
            return self._locator.error(message, parts, hint, pipeline=pipeline)
        file = str(self.source) if self.source is not None else None
        return DeploymentError(message, path=parts, hint=hint, file=file, pipeline=pipeline)


def read_deployment(path: str | os.PathLike[str], *, env: str | None = None) -> Deployment:
    """Read ``runwire.yaml`` with the ``environments.<env>`` overlay applied (``None``: none).

    Raises :class:`DeploymentError` on the first problem (``runwire validate`` lists all).
    """
    deployment, problems = _check(Path(path), env)
    if deployment is None:
        first = problems[0]
        if len(problems) > 1:
            more = f"{len(problems) - 1} more problem(s): `runwire validate {path}` lists them"
            first.hint = f"{first.hint}; {more}" if first.hint else more
        raise first
    return deployment


def deployment_problems(path: str | os.PathLike[str]) -> list[DeploymentError]:
    """Every problem of a deployment file: without overlay, then under each environment."""
    path = Path(path)
    try:
        data, source = _read(path)
    except DeploymentError as exc:
        return [exc]
    _, problems = _validate(data, _Locator(source, data))
    if problems:  # the file's own structure: every environment would repeat them
        return problems
    found: dict[tuple[str, str], DeploymentError] = {}
    for env in [None, *data.get("environments", ())]:
        for problem in _check(path, env, (data, source))[1]:
            found.setdefault((problem.path, problem.message), problem)
    return list(found.values())


def deployment_for_files(paths: Sequence[str | os.PathLike[str]]) -> Deployment:
    """A deployment serving each manifest directly, under its file stem (``echo.json`` -> echo)."""
    pipelines: dict[str, PipelineSpec] = {}
    seen: dict[str, str] = {}
    for name in paths:
        path = Path(name)
        stem = path.stem
        if not path.is_file():
            raise DeploymentError(f"manifest {str(path)!r} does not exist", file=str(path))
        where = {"file": str(path), "pipeline": stem, "hint": "rename it, or use a runwire.yaml"}
        try:
            check_pipeline_name(stem)
        except ValueError as exc:
            raise DeploymentError(f"cannot serve {path.name} as {stem!r}: {exc}", **where) from None
        if stem in seen:
            raise DeploymentError(f"{seen[stem]} and {path} would both be /{stem}", **where)
        seen[stem] = str(path)
        pipelines[stem] = PipelineSpec(path=path.resolve(), allowed_objects="all")
    if not pipelines:
        raise DeploymentError("no manifest to serve", hint="name a runwire.yaml or manifests")
    return Deployment(pipelines=pipelines)


def is_deployment_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a deployment file: named runwire.yaml/.yml, or a YAML/JSON
    mapping with a ``pipelines:`` mapping at the top (and no ``_type`` / ``lc``)."""
    path = Path(path)
    if path.name in DEPLOYMENT_FILE_NAMES:
        return True
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        return False
    try:
        if not path.is_file() or path.stat().st_size > _MAX_FILE_BYTES:
            return False
        data = read_yaml_tree(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, ManifestError):
        return False
    pipelines = isinstance(data, dict) and isinstance(data.get("pipelines"), dict)
    return pipelines and not {"_type", "lc"} & set(data)


def deployment_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``runwire.yaml``, for editors and CI."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema"} | (
        DeploymentFile.model_json_schema()
    )
