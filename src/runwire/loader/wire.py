"""The wire form to objects: ``load`` (from data) and ``loads`` (from JSON text).

Stricter than LangChain, never looser:
- only registered classes are built, and only those ``allowed_objects`` permits;
- a secret node is resolved only in a kwarg its class declares secret;
- nothing is built inside a user data field (``lc_data_fields``: message content and
  kwargs, document metadata): a constructor node there is refused, an escaped dict is data;
- secrets come from ``secrets_map``, and from the environment only when asked; a
  secret node whose secret is not found is an error, in an optional field too;
- depth, node count and text size are bounded;
- every failure is a ``ManifestError`` with the JSON path of the node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from runwire.errors import (
    FieldValidationError,
    LimitExceededError,
    ManifestError,
    NotAllowedError,
    NotSerializableError,
    SecretPlacementError,
    UnknownFieldError,
    UnknownIdError,
    ValidatorRejectedError,
    format_path,
)
from runwire.loader.fast_load import FALLBACK, parse_and_load
from runwire.loader.limits import DEFAULT_LIMITS, Limits, parse_json
from runwire.loader.registry import (
    DEFAULT_NAMESPACES,
    AllowedObjects,
    allowed_ids,
    class_for,
    lookup,
    nearest_names,
)
from runwire.loader.wire_secrets import SecretFields, is_secret_node
from runwire.schema.nodes import ESCAPE_KEY
from runwire.schema.serializable import class_plan
from runwire.schema.trust import make_trust, trust_scope

__all__ = ["InitValidator", "default_init_validator", "load", "loads"]

InitValidator = Callable[[tuple[str, ...], dict[str, Any]], None]
Locator = Callable[
    [tuple[str | int, ...]], tuple[str | None, int | None, int | None, tuple[str | int, ...]]
]
"""Wire path -> (file, line, column, path to show) for error messages."""


def default_init_validator(class_path: tuple[str, ...], kwargs: dict[str, Any]) -> None:
    """Refuse jinja2 templates: they can run code. Pass ``init_validator=None`` to allow."""
    if kwargs.get("template_format") == "jinja2":
        raise ValueError(
            "jinja2 templates are refused when loading: they can execute code; "
            "use 'f-string' or 'mustache', or pass init_validator=None for trusted files"
        )


def plan_service(cls: type) -> str | None:
    """The service a class sends its secrets to (``lc_secret_service``), if it says."""
    return getattr(cls, "lc_secret_service", None)


_NO_KWARGS: dict[str, Any] = {}
_SCALARS = frozenset((str, int, float, bool, type(None)))
_Path = tuple[Any, Any] | None  # (parent, key) links, flattened only for errors


def _flatten(path: _Path) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    while path is not None:
        path, key = path
        parts.append(key)
    return tuple(reversed(parts))


class _Reviver(SecretFields):
    """One load: the options, the counters, and the recursive walk."""

    def __init__(
        self,
        *,
        secrets_map: Mapping[str, str] | None,
        secrets_from_env: bool,
        allowed_objects: AllowedObjects,
        valid_namespaces: Iterable[str] | None,
        ignore_unserializable_fields: bool,
        init_validator: InitValidator | None,
        limits: Limits,
        source: str | None,
        locate: Locator | None,
        track: dict[int, tuple[str | int, ...]] | None = None,
    ) -> None:
        self.secrets_map = secrets_map if secrets_map is not None else {}
        self.secrets_from_env = secrets_from_env
        self.root: Any = None
        self.allowed = allowed_ids(allowed_objects)
        self.namespaces = (
            DEFAULT_NAMESPACES.union(valid_namespaces) if valid_namespaces else DEFAULT_NAMESPACES
        )
        self.ignore_unserializable = ignore_unserializable_fields
        self.init_validator = init_validator
        self.max_depth = limits.max_depth
        self.max_nodes = limits.max_nodes
        self.source = source
        self.locate = locate
        self.track = track
        self.nodes = 0
        self.data_field: tuple[str, str] | None = None  # (class, field) of the data walked
        self.ready: dict[tuple[str, ...], tuple[Any, type, Any]] = {}

    # -- errors ------------------------------------------------------------------------
    def fail(self, error: type[ManifestError], message: str, path: _Path, hint: str = "") -> Any:
        parts = _flatten(path)
        file, line, column = self.source, None, None
        if self.locate is not None:
            file, line, column, parts = self.locate(parts)
        raise error(
            message, path=format_path(parts), hint=hint, file=file, line=line, column=column
        )

    # -- the walk ----------------------------------------------------------------------
    def walk(self, value: Any, path: _Path, depth: int) -> Any:
        """Load one JSON value: nodes become objects; containers without nodes come back as is."""
        kind = type(value)
        if kind is list:
            if depth >= self.max_depth:
                self._too_deep(path)
            self.nodes += len(value)
            if self.nodes > self.max_nodes:
                self._too_many(path)
            out = None
            for i, item in enumerate(value):
                if type(item) in _SCALARS:
                    continue
                loaded = self.walk(item, (path, i), depth + 1)
                if loaded is not item:
                    if out is None:
                        out = list(value)
                    out[i] = loaded
            return value if out is None else out
        if kind is not dict:
            return value
        if depth >= self.max_depth:
            self._too_deep(path)
        self.nodes += len(value) + 1
        if self.nodes > self.max_nodes:
            self._too_many(path)
        if "lc" in value:
            if value["lc"] == 1 and value.get("id") is not None:
                node_type = value.get("type")
                if node_type == "constructor":
                    if self.data_field is not None:
                        self._object_in_data(value, path)
                    return self.construct(value, path, depth)
                if node_type == "secret":
                    self._misplaced_secret(value, path)
                if node_type == "not_implemented":
                    return self._not_implemented(value, path)
        elif ESCAPE_KEY in value and len(value) == 1:
            return value[ESCAPE_KEY]
        changed = None
        for key, item in value.items():
            if type(item) in _SCALARS:
                continue
            loaded = self.walk(item, (path, key), depth + 1)
            if loaded is not item:
                if changed is None:
                    changed = {}
                changed[key] = loaded
        return value if changed is None else {**value, **changed}

    def _object_in_data(self, node: dict[str, Any], path: _Path) -> None:
        owner, field = self.data_field  # type: ignore[misc]
        ident = node.get("id")
        name = ".".join(map(str, ident)) if isinstance(ident, list) else repr(ident)
        self.fail(
            NotAllowedError,
            f"{owner}.{field} holds user data; the constructor node {name} in it is not built",
            path,
            "keep data as JSON values; to keep this dict as data, write it escaped as "
            '{"__lc_escaped__": {...}} (runwire.dumps does)',
        )

    def _too_many(self, path: _Path) -> None:
        self.fail(
            LimitExceededError,
            f"more than {self.max_nodes} nodes",
            path,
            "split the manifest or raise Limits.max_nodes",
        )

    def _misplaced_secret(self, node: dict[str, Any], path: _Path) -> None:
        self.fail(
            SecretPlacementError,
            f"secret node {node['id']!r} is not in a field declared secret",
            path,
            "secret nodes may only stand in a class's secret fields "
            "(e.g. an API key field); put plain values elsewhere",
        )

    def _not_implemented(self, node: dict[str, Any], path: _Path) -> None:
        if self.ignore_unserializable:
            return None
        ident = node["id"]
        return self.fail(
            NotSerializableError,
            f"{'.'.join(map(str, ident)) if isinstance(ident, list) else repr(ident)} was "
            "written as not_implemented and cannot be loaded",
            path,
            "rebuild this part with serializable classes, or pass "
            "ignore_unserializable_fields=True to load it as None",
        )

    def _too_deep(self, path: _Path) -> None:
        self.fail(
            LimitExceededError,
            f"nested more than {self.max_depth} levels deep",
            path,
            "flatten the manifest or raise Limits.max_depth",
        )

    def resolve_class(self, ident: Any, path: _Path) -> tuple[Any, type, Any]:
        """(entry, class, plan) for a constructor id that passes every check, cached per load."""
        try:
            key = tuple(ident) if type(ident) is list else None
            ready = self.ready.get(key)  # type: ignore[arg-type]
        except TypeError:  # unhashable parts
            key = ready = None
        if ready is not None:
            return ready
        if not (key and all(type(p) is str for p in key)):
            self.fail(
                ManifestError,
                "a constructor id must be a non-empty list of strings",
                (path, "id"),
                'write e.g. ["runwire", "messages", "AIMessage"]',
            )
        entry = lookup(key)  # type: ignore[arg-type]
        if entry is None:
            near = nearest_names(key)  # type: ignore[arg-type]
            self.fail(
                UnknownIdError,
                f"unknown class id {'.'.join(key)}",
                (path, "id"),  # type: ignore[arg-type]
                f"did you mean {', '.join(near)}?"
                if near
                else "register the class with @runwire.register",
            )
        if key[0] not in self.namespaces:  # type: ignore[index]
            self.fail(
                NotAllowedError,
                f"namespace {key[0]!r} of {'.'.join(key)} is not valid",  # type: ignore[arg-type,index]
                (path, "id"),
                "add it with valid_namespaces=[...]",
            )
        if entry.id not in self.allowed:
            self.fail(
                NotAllowedError,
                f"{entry.name} ({entry.group}) is not in allowed_objects",
                (path, "id"),
                "pass allowed_objects='all' or list the class explicitly",
            )
        cls = class_for(entry)
        ready = (entry, cls, class_plan(cls))
        self.ready[key] = ready  # type: ignore[index]
        return ready

    def construct(self, node: dict[str, Any], path: _Path, depth: int) -> Any:
        ident = node["id"]
        entry, cls, plan = self.resolve_class(ident, path)
        kwargs = node.get("kwargs", _NO_KWARGS)
        if type(kwargs) is not dict:
            self.fail(ManifestError, "kwargs must be an object", (path, "kwargs"))
        kw_path = (path, "kwargs")
        if self.init_validator is not None:
            self._rejected(ident, kwargs, kw_path)
        secrets = plan.secrets
        accepted = None if plan.extra_allowed else plan.accepted_keys
        accepted_keys = plan.accepted_keys
        values: dict[str, Any] = {}
        for key, raw in kwargs.items():
            if accepted is not None and key not in accepted:
                self._unknown_field(cls, key, (kw_path, key))
            if type(raw) in _SCALARS or key in plan.raw_fields:
                values[key] = raw
            elif key in secrets and is_secret_node(raw):
                resolved = self.resolve_secret(
                    raw, key, entry.name, plan_service(cls), (kw_path, key), secrets[key]
                )
                values[key] = self.named(cls, key, raw["id"][0], resolved)
            else:
                nested = plan.nested_secrets.get(key)
                if nested and type(raw) is dict:
                    raw = self._nested_secrets(
                        raw, nested, entry.name, plan_service(cls), (kw_path, key)
                    )
                data = key in plan.data_fields or (plan.data_extras and key not in accepted_keys)
                if data:  # user data: nothing is built in it
                    self.data_field = (entry.name, key)
                values[key] = self.walk(raw, (kw_path, key), depth + 2)
                if data:
                    self.data_field = None
        try:
            built = cls.__pydantic_validator__.validate_python(values)
        except ValidationError as exc:
            self._invalid(exc, secrets, entry.name, kw_path, values)
        except Exception as exc:  # a validator that raised something else
            self.fail(FieldValidationError, f"{entry.name}: {type(exc).__name__}: {exc}", kw_path)
        if self.track is not None:
            self.track[id(built)] = _flatten(path)
        return built

    def _rejected(self, ident: list[str], kwargs: dict[str, Any], path: _Path) -> None:
        """Run the init_validator; its refusal becomes a ValidatorRejectedError."""
        try:
            self.init_validator(tuple(ident), kwargs)  # type: ignore[misc]
        except Exception as exc:
            self.fail(ValidatorRejectedError, str(exc), path)

    def _unknown_field(self, cls: type, key: str, path: _Path) -> None:
        import difflib

        names = list(cls.model_fields)  # type: ignore[attr-defined]
        near = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
        hint = (
            f"did you mean {', '.join(near)}?"
            if near
            else f"{cls.__name__} takes: " + (", ".join(names))
        )
        self.fail(UnknownFieldError, f"{cls.__name__} has no field {key!r}", path, hint)

    def _invalid(
        self,
        exc: ValidationError,
        secrets: Mapping[str, str],
        owner: str,
        kw_path: _Path,
        values: dict[str, Any],
    ) -> None:
        problems = exc.errors(include_input=False, include_url=False)
        first = problems[0]
        loc = _data_loc(values, first.get("loc", ()))
        path = kw_path
        for part in loc:
            path = (path, part)
        field = ".".join(map(str, loc)) or "kwargs"
        secret_field = bool(loc) and loc[0] in secrets
        message, hint = first["msg"], f"check {field!r} against {owner}'s fields"
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, ValueError) and getattr(cause, "hint", None):
            message, hint = getattr(cause, "message", None) or str(cause), cause.hint  # type: ignore[attr-defined]
        if secret_field:
            message = "invalid value for a secret field"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.fail(FieldValidationError, f"{owner}.{field}: {message}{more}", path, hint)


def _data_loc(values: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic error loc without the parts that are not keys or indexes of the data
    (union member tags such as 'str', validator names)."""
    if not loc:
        return ()
    parts = [loc[0]]
    current = values.get(loc[0]) if isinstance(values, dict) else None
    for part in loc[1:]:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and type(part) is int and 0 <= part < len(current)
        ):
            parts.append(part)
            current = current[part]
    return tuple(parts)


def load(
    obj: Any,
    *,
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
    allowed_objects: AllowedObjects = "core",
    valid_namespaces: Iterable[str] | None = None,
    ignore_unserializable_fields: bool = False,
    init_validator: InitValidator | None = default_init_validator,
    limits: Limits | None = None,
    source: str | None = None,
    locate: Locator | None = None,
    track: dict[int, tuple[str | int, ...]] | None = None,
    trusted: bool = False,
    allowed_endpoints: Iterable[str] = (),
) -> Any:
    """Build objects from wire-form data (as ``json.loads`` would give it).

    Args:
        obj: the data: a constructor node, or any JSON value holding nodes.
        secrets_map: secret id -> value, for secret nodes. Every secret node (in a
            field its class declares secret) must find its value: one that is not
            found, in an optional field too, is a ``MissingSecretError`` naming every
            missing secret of the data (the AWS key fields would otherwise fall back to
            other credentials); nothing more is built once one is missing.
        secrets_from_env: also read secrets from ``os.environ`` (off by default).
        allowed_objects: ``"core"`` (messages, documents, runnables, prompts, parsers),
            ``"messages"``, ``"all"`` (providers and registered user classes too), or a
            list of classes.
        valid_namespaces: first id segments accepted besides runwire's and LangChain's.
        ignore_unserializable_fields: load ``not_implemented`` nodes as ``None``.
        init_validator: called with ``(id, kwargs)`` before each constructor; the
            default refuses jinja2 templates. ``None`` disables it.
        limits: depth, node and size bounds.
        source, locate: the file name, and a wire path -> (file, line, column, path
            to show) function, for errors.
        track: when given, receives ``id(object)`` -> wire path of every object built.
        trusted: ``False`` (the default) for data anyone may have written: the objects
            get no ambient credentials and only talk to their service's own endpoints
            and ``allowed_endpoints``. ``True`` for your own files (docs/security.md).
        allowed_endpoints: origins untrusted objects may call, e.g.
            ``"https://llm.corp.example"`` or ``"http://127.0.0.1"`` (any port).

    Raises:
        ManifestError: (a subclass of it) for anything that is not acceptable.
    """
    reviver = _Reviver(
        secrets_map=secrets_map,
        secrets_from_env=secrets_from_env,
        allowed_objects=allowed_objects,
        valid_namespaces=valid_namespaces,
        ignore_unserializable_fields=ignore_unserializable_fields,
        init_validator=init_validator,
        limits=limits or DEFAULT_LIMITS,
        source=source,
        locate=locate,
        track=track,
    )
    try:
        trust = make_trust(trusted, allowed_endpoints)
    except ValueError as exc:
        raise ManifestError(str(exc), hint="fix the allowed_endpoints argument") from None
    reviver.root = obj
    with trust_scope(trust):
        return reviver.walk(obj, None, 0)


def loads(
    text: str | bytes,
    *,
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool = False,
    allowed_objects: AllowedObjects = "core",
    valid_namespaces: Iterable[str] | None = None,
    ignore_unserializable_fields: bool = False,
    init_validator: InitValidator | None = default_init_validator,
    limits: Limits | None = None,
    source: str | None = None,
    trusted: bool = False,
    allowed_endpoints: Iterable[str] = (),
) -> Any:
    """Build objects from wire-form JSON text; the options are :func:`load`'s.

    Default options take the fast path (:mod:`runwire.loader.fast_load`), which builds the
    same objects or hands the data back to :func:`load`.
    """
    if init_validator is None or init_validator is default_init_validator:
        data, built = parse_and_load(
            text,
            limits=limits,
            source=source,
            allowed_objects=allowed_objects,
            valid_namespaces=valid_namespaces,
            refuse_jinja=init_validator is not None,
            trusted=trusted,
            allowed_endpoints=allowed_endpoints,
        )
        if built is not FALLBACK:
            return built
    else:
        data = parse_json(text, limits=limits, source=source)
    return load(
        data,
        secrets_map=secrets_map,
        secrets_from_env=secrets_from_env,
        allowed_objects=allowed_objects,
        valid_namespaces=valid_namespaces,
        ignore_unserializable_fields=ignore_unserializable_fields,
        init_validator=init_validator,
        limits=limits,
        source=source,
        trusted=trusted,
        allowed_endpoints=allowed_endpoints,
    )
