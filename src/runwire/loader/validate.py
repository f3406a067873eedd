"""``runwire validate``: structure, semantics, and (optionally) the environment.

1. structure: the composed file against the manifest JSON Schema, every error;
2. semantics: the pipeline is built (ids known and allowed, secrets only in secret
   fields, kwargs valid) and checked (prompt variables, step compatibility,
   configurable ids);
3. environment: every secret the pipeline names is set (always: ``runwire run`` would
   fail without it, and an unset optional AWS key must never fall back to other
   credentials unnoticed); with ``check_env``, every ``${VAR}`` without default too.
   Only names are reported, never values.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from runwire.errors import ManifestError, format_path
from runwire.loader.files import Manifest
from runwire.loader.interpolate import is_placeholder
from runwire.loader.source import Parts, brief, is_secret_node, secret_name
from runwire.schema.nodes import ESCAPE_KEY

__all__ = [
    "Finding",
    "PlaceholderSecrets",
    "authoring_schema",
    "finding_of",
    "strict_schema",
    "validate_manifest",
]

Phase = Literal["structure", "semantics", "environment"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a manifest."""

    phase: Phase
    kind: str
    message: str
    path: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str = ""

    def __str__(self) -> str:
        where = self.file or "<manifest>"
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        text = f"{where}: {self.phase}: {self.path}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PlaceholderSecrets(Mapping[str, str]):
    """Stands in for every secret while validating: shapes are checked, values never read."""

    def __getitem__(self, key: str) -> str:
        return "<validation placeholder>"

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def strict_schema() -> dict[str, Any]:
    """The manifest JSON Schema of a file as runwire has read it (includes spliced,
    secret nodes), with the composition helpers' shapes: what ``validate`` checks."""
    from runwire.loader.helper_schemas import helper_schemas
    from runwire.schema.manifest_schema import manifest_schema

    return manifest_schema(helper_schemas())


def authoring_schema() -> dict[str, Any]:
    """The published manifest JSON Schema (``runwire schema manifest``): the strict one,
    read as an editor reads the file (:mod:`runwire.loader.editor_schema`)."""
    from runwire.loader.editor_schema import editor_schema

    return editor_schema(strict_schema())


def _at(manifest: Manifest, parts: Parts) -> dict[str, Any]:
    file, line, column = manifest.source.locate(parts)
    return {"file": file, "line": line, "column": column, "path": format_path(parts)}


_VALIDATORS: dict[int, Any] = {}


def _validator() -> Any:
    """The jsonschema validator of the manifest schema, built once per registry version."""
    from jsonschema import Draft202012Validator

    from runwire.schema.ids import id_table

    validator = _VALIDATORS.get(id_table.version)
    if validator is None:
        _VALIDATORS.clear()
        validator = _VALIDATORS[id_table.version] = Draft202012Validator(strict_schema())
    return validator


def _structure(manifest: Manifest) -> list[Finding]:
    validator = _validator()
    found: dict[tuple[Parts, str, str], Finding] = {}  # one finding per (path, kind, message)
    for error in validator.iter_errors(manifest.data):
        if is_placeholder(error.instance):
            continue  # a ${VAR}: its value is known only at load time
        parts = tuple(error.absolute_path)
        for at, kind, message, hint in _explain(error, parts):
            if (at, kind, message) not in found:
                where = _at(manifest, at)
                found[at, kind, message] = Finding("structure", kind, message, **where, hint=hint)
    return sorted(found.values(), key=lambda f: (f.file or "", f.line or 0, f.column or 0, f.path))


_SCHEMA_HINT = "see `runwire schema manifest` for what each _type accepts"


def _explain(error: Any, parts: Parts) -> Iterator[tuple[Parts, str, str, str]]:
    """(path, kind, message, hint) for a jsonschema error, in runwire's words."""
    import difflib

    instance = error.instance
    if error.validator in ("unevaluatedProperties", "additionalProperties") and isinstance(
        instance, dict
    ):
        allowed = _allowed_keys(instance)
        for key in instance:
            if allowed is not None and key in allowed:
                continue
            if allowed is None and repr(key) not in error.message:
                continue
            near = difflib.get_close_matches(key, sorted(allowed or ()), n=3, cutoff=0.6)
            owner = instance.get("_type", "this node")
            yield (
                (*parts, key),
                "unknown-field",
                f"{str(owner)[:80]} has no field {brief(key)}",
                f"did you mean {', '.join(near)}?" if near else _SCHEMA_HINT,
            )
        return
    if error.validator == "enum" and parts and parts[-1] == "_type":
        from runwire.loader.registry import nearest_names

        near = nearest_names([str(instance)])
        yield (
            parts,
            "unknown-type",
            f"unknown _type {brief(instance)}",
            f"did you mean {', '.join(near)}?" if near else _SCHEMA_HINT,
        )
        return
    if is_secret_node(instance):
        yield (
            parts,
            "secret-placement",
            "a secret node can only stand in a field its class declares secret",
            "put plain values here; secrets go in fields such as api keys",
        )
        return
    if error.validator in ("anyOf", "oneOf") and error.context:
        expected = sorted({_expected(sub.schema) for sub in error.context} - {""})
        if expected:
            yield (
                parts,
                "type",
                f"{brief(instance)} is not {' or '.join(expected)}",
                _SCHEMA_HINT,
            )
            return
    message = str(error.message)  # jsonschema's repr of the value: it may be huge
    yield parts, str(error.validator), message[:300] + "..." * (len(message) > 300), _SCHEMA_HINT


def _expected(schema: Any) -> str:
    """A few words for what a schema accepts (``"a string"``, ``"null"``), or ``""``."""
    if not isinstance(schema, dict):
        return ""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(repr, schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind if kind == "null" else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1].split(":")[-1].lower()
    return ""


def _allowed_keys(node: dict[str, Any]) -> set[str] | None:
    """The keys a ``_type`` node accepts, or ``None`` when its type is not known."""
    from runwire.loader.authoring import resolve_type
    from runwire.loader.helper_schemas import helper_schemas
    from runwire.loader.registry import class_for
    from runwire.schema.serializable import class_plan

    helper, entry = resolve_type(node.get("_type"))
    if helper is not None:
        return {"_type", *helper_schemas()[helper.name].get("properties", {})}
    if entry is not None:
        return {"_type", *class_plan(class_for(entry)).accepted_keys}
    return None


def _semantics(manifest: Manifest, env: Mapping[str, str]) -> list[Finding]:
    from runwire.loader.checks import check_pipeline

    track: dict[int, Parts] = {}
    try:
        wire = manifest.wire(env, keep_unset=True)  # unset ones: the environment phase
        built = wire.build(secrets_map=PlaceholderSecrets(), allowed_objects="all", track=track)
    except ManifestError as exc:
        return [finding_of(exc, "semantics")]
    found = []
    for problem in check_pipeline(built, track):
        shown = wire.source_path(problem.path)
        found.append(
            Finding(
                "semantics",
                problem.kind,
                problem.message,
                **_at(manifest, shown),
                hint=problem.hint,
            )
        )
    return found


def _unset_variables(manifest: Manifest, env: Mapping[str, str]) -> list[Finding]:
    found = []
    for placeholder in manifest.placeholders():
        if placeholder.default is None and placeholder.name not in env:
            found.append(
                Finding(
                    "environment",
                    "unset-variable",
                    f"environment variable {placeholder.name} is not set and has no default",
                    **_at(manifest, placeholder.path),
                    hint=f"export {placeholder.name}=... before running",
                )
            )
    return found


def _missing_secrets(
    manifest: Manifest, secrets: Mapping[str, str], where: str, taken: set[str]
) -> list[Finding]:
    """A finding per secret node whose secret ``secrets`` does not hold (nodes at a path
    ``taken`` by another finding, a misplaced secret, are left to that finding)."""
    import difflib

    from runwire.errors import RunwireError

    found = []
    for name, parts in _secret_nodes(manifest.data, ()):
        at = _at(manifest, parts)
        if at["path"] in taken:
            continue
        try:
            value = secrets.get(name)
        except RunwireError as exc:  # a secret source that cannot answer
            message = getattr(exc, "message", str(exc))
            found.append(Finding("environment", "secret-source", message, **at))
            continue
        if value:
            continue
        hint = f"export {name} (its value is never printed)"
        known = sorted(k for k in (secrets if isinstance(secrets, dict) else os.environ))
        near = difflib.get_close_matches(name, [k for k in known if k != name], n=1, cutoff=0.8)
        if near:
            hint = f"a misspelling? {near[0]} is set; otherwise {hint}"
        found.append(
            Finding(
                "environment",
                "missing-secret",
                f"secret {name} is not set in {where}",
                **at,
                hint=hint,
            )
        )
    return found


def _secret_nodes(data: Any, at: Parts) -> Iterator[tuple[str, Parts]]:
    """(name, path) of every secret node; escaped dicts are data and are skipped."""
    if isinstance(data, dict):
        if ESCAPE_KEY in data and len(data) == 1:
            return
        if is_secret_node(data):
            name = secret_name(data)
            if name is not None:
                yield name, at
            return
        for key, value in data.items():
            yield from _secret_nodes(value, (*at, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _secret_nodes(value, (*at, index))


def validate_manifest(
    manifest: Manifest | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    check_env: bool = False,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every problem found in a manifest (empty when it is valid).

    ``manifest`` is a composed :class:`Manifest`, or a file (or files, as overlays) to
    read. The semantic phase runs only when the structure is sound (its errors would
    repeat). Every secret the manifest names must be in ``secrets`` (default: ``env``,
    where ``runwire run`` reads them; a deployment passes its secret sources);
    ``check_env`` also requires every ``${VAR}`` without default to be set in ``env``.
    """
    env = os.environ if env is None else env
    if not isinstance(manifest, Manifest):
        try:
            manifest = Manifest.read(manifest)
        except ManifestError as exc:
            return [finding_of(exc, "structure")]
    found = _structure(manifest)
    if not found:
        found.extend(_semantics(manifest, env))
    where = "the environment" if secrets is None else "any secret source"
    taken = {finding.path for finding in found}
    if check_env:
        found.extend(_unset_variables(manifest, env))
    found.extend(_missing_secrets(manifest, env if secrets is None else secrets, where, taken))
    return found


def finding_of(exc: ManifestError, phase: Phase) -> Finding:
    """A loader error as a finding."""
    return Finding(
        phase, type(exc).__name__, exc.message, exc.path, exc.file, exc.line, exc.column, exc.hint
    )
