"""Secret nodes in a class's secret fields: which value they get, and which they may not.

The walk in :mod:`runwire.loader.wire` calls these for kwargs its class declares secret
(and for dotted sub-paths such as ``auth.token``); a secret node anywhere else never gets
here.

A secret a manifest names must be found (in ``secrets_map``, or the environment when
``secrets_from_env``), in a required field or an optional one alike: an unset optional
AWS key would otherwise let the client fall back to other credentials (the
environment's, a profile's) without a word. The first missing secret stops the load
before anything more is built, and the :class:`~runwire.errors.MissingSecretError`
names every missing secret of the data, each with its field and position.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any, NamedTuple

from pydantic import SecretStr

from runwire.errors import (
    FieldValidationError,
    ManifestError,
    MissingSecretError,
    SecretPlacementError,
)
from runwire.redaction import register_secret, unprintable
from runwire.schema.named_secret import NamedSecret
from runwire.schema.nodes import ESCAPE_KEY
from runwire.schema.serializable import class_plan
from runwire.schema.trust import secret_conflict

__all__ = ["MissingSecret", "SecretFields", "is_secret_node", "takes_named_secret"]


class MissingSecret(NamedTuple):
    """One secret node whose secret is not found: its name, field, class and walk path."""

    name: str
    field: str
    owner: str
    path: Any


@cache
def takes_named_secret(cls: type, field: str) -> bool:
    """Whether ``cls``'s field ``field`` is typed with ``SecretStr`` (so a
    :class:`NamedSecret` keeps the secret's name in it)."""
    import typing

    fields = getattr(cls, "model_fields", {})
    info = fields.get(field) or next((f for f in fields.values() if f.alias == field), None)
    if info is None:
        return False

    def mentions(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, SecretStr):
            return True
        return any(mentions(arg) for arg in typing.get_args(annotation))

    return mentions(info.annotation)


def is_secret_node(value: Any) -> bool:
    """Whether ``value`` is a wire-form secret node ``{"lc": 1, "type": "secret", ...}``."""
    return (
        type(value) is dict
        and value.get("lc") == 1
        and value.get("type") == "secret"
        and value.get("id") is not None
    )


class SecretFields:
    """The secret side of one load (a base of the loader's walker).

    The walker provides ``secrets_map``, ``secrets_from_env`` and ``fail``.
    """

    secrets_map: Mapping[str, str]
    secrets_from_env: bool
    root: Any
    """The data being loaded (searched for every missing secret once one is missing)."""

    fail: Callable[..., Any]
    """``fail(error, message, path, hint)``: raise ``error`` located at ``path``."""

    def _nested_secrets(
        self,
        raw: dict[str, Any],
        nested: dict[str, str],
        owner: str,
        service: str | None,
        path: Any,
    ) -> dict[str, Any]:
        """Resolve secret nodes at the dotted sub-paths a class declares (``auth.token``)."""
        result = dict(raw)
        for dotted in nested:
            *parents, last = dotted.split(".")
            current, where = result, path
            for part in parents:
                if type(current.get(part)) is not dict:
                    break
                current[part] = dict(current[part])
                current, where = current[part], (where, part)
            else:
                if is_secret_node(current.get(last)):
                    current[last] = self.resolve_secret(
                        current[last], dotted, owner, service, (where, last), nested[dotted]
                    )
        return result

    def resolve_secret(
        self,
        node: dict[str, Any],
        field: str,
        owner: str,
        service: str | None,
        path: Any,
        own_id: str | None = None,
    ) -> Any:
        """The secret's value, or a :class:`MissingSecretError` (see :meth:`fail_missing`).

        A secret named for another service than ``service`` (the class's
        ``lc_secret_service``) is refused: it would be sent where it does not belong
        (the hint names ``own_id``, the field's own secret id, which belongs there).
        """
        ident = node["id"]
        if not (isinstance(ident, list) and len(ident) == 1 and isinstance(ident[0], str)):
            self.fail(ManifestError, "a secret id must be a list of one string", path)
        name = ident[0]
        other = secret_conflict(name, service)
        if other is not None:
            self.fail(
                SecretPlacementError,
                f"secret {name} belongs to {other}; field {field!r} of {owner} would send it "
                f"to {service}",
                path,
                f"name a {service} secret here, e.g. !secret {own_id}"
                if own_id
                else f"name a {service} secret here",
            )
        value, origin = self._lookup(name)
        if value is None:
            self.fail_missing(MissingSecret(name, field, owner, path))
        problem = unprintable(value)
        if problem is not None:
            self.fail(
                FieldValidationError,
                f"secret {name} (from {origin}) for field {field!r} of {owner} holds "
                f"{problem}; secret values must be one line of text",
                path,
                f'set {name} without line breaks, e.g. export {name}="$(cat FILE)"',
            )
        register_secret(value)
        return value

    def _lookup(self, name: str) -> tuple[str | None, str]:
        """(value or None, where it came from) of the secret ``name``."""
        value = self.secrets_map.get(name)
        if value is None and self.secrets_from_env:
            return os.environ.get(name) or None, "the environment"
        return value, "secrets_map"

    def fail_missing(self, first: MissingSecret) -> None:
        """A :class:`MissingSecretError` at ``first``, naming every other missing secret
        of the data too (each with its field and position)."""
        others = [m for m in self._missing_in(self.root) if m.path != first.path]
        message = f"secret {first.name} for field {first.field!r} of {first.owner} is not set"
        if others:
            more = "; ".join(
                f"{m.name} (field {m.field!r} of {m.owner}{self._where(m.path)})" for m in others
            )
            message += f"; also not set: {more}"
        names = list(dict.fromkeys(m.name for m in (first, *others)))
        if self.secrets_from_env:
            hint = f"export {', '.join(names)} (a secret a manifest names is never replaced "
            hint += "by other credentials)"
        else:
            hint = f"pass secrets_map={{{names[0]!r}: ...}}, or secrets_from_env=True with "
            hint += f"{names[0]} in the environment"
        near = self._near(names)
        if near:
            hint = f"{near}; otherwise {hint}"
        self.fail(MissingSecretError, message, first.path, hint)

    def _missing_in(self, data: Any) -> list[MissingSecret]:
        """Every secret node of ``data``, in a field its class declares secret, whose
        secret is not found (document order; classes not known are skipped)."""
        found: list[MissingSecret] = []
        stack: list[tuple[Any, Any]] = [(data, None)]
        while stack:
            value, path = stack.pop()
            if isinstance(value, list):
                stack.extend((item, (path, i)) for i, item in reversed(list(enumerate(value))))
                continue
            if not isinstance(value, dict) or ESCAPE_KEY in value:
                continue
            if value.get("type") == "constructor" and isinstance(value.get("kwargs"), dict):
                found.extend(self._missing_at(value, path))
            stack.extend((item, (path, key)) for key, item in reversed(list(value.items())))
        return found

    def _missing_at(self, node: dict[str, Any], path: Any) -> Iterator[MissingSecret]:
        """The missing secrets of one constructor node's own secret fields."""
        from runwire.loader.registry import class_for, lookup

        ident = node.get("id")
        if not (isinstance(ident, list) and all(isinstance(p, str) for p in ident)):
            return
        entry = lookup(tuple(ident))
        if entry is None:
            return
        try:
            plan = class_plan(class_for(entry))
        except Exception:  # a class that fails to import: the walk reports it when it gets there
            return
        for key, raw in node["kwargs"].items():
            kw_path = ((path, "kwargs"), key)
            for secret, at, field in _secret_nodes(key, raw, kw_path, plan.nested_secrets):
                if key in plan.secrets or "." in field:
                    name = secret["id"][0]
                    if self._lookup(name)[0] is None:
                        yield MissingSecret(name, field, entry.name, at)

    def _where(self, path: Any) -> str:
        """``", file:line:column"`` of a walk path (or its JSON path) for messages."""
        try:
            self.fail(MissingSecretError, "", path)
        except MissingSecretError as exc:
            return f", {exc.location}" if exc.location else f", {exc.path}"
        return ""  # pragma: no cover - fail always raises

    def _near(self, names: list[str]) -> str:
        """A likely misspelling: a name that is set (the secrets map's keys, and the
        environment's when it is read; never values) close to a missing one."""
        import difflib  # only an error's hint needs it: kept off the import path

        known: set[str] = set()
        if isinstance(self.secrets_map, dict):
            known.update(self.secrets_map)
        if self.secrets_from_env:
            known.update(os.environ)
        guesses = []
        for name in names:
            close = difflib.get_close_matches(name, sorted(known - {name}), n=1, cutoff=0.8)
            if close:
                guesses.append(f"{close[0]} is set, the manifest names {name}")
        return f"a misspelling? {'; '.join(guesses)}" if guesses else ""

    def named(self, cls: type, field: str, name: str, value: Any) -> Any:
        """``value`` as the field gets it: a :class:`NamedSecret` remembering ``name``
        where the field is a ``SecretStr``, else as it is."""
        if type(value) is not str:
            return value
        return NamedSecret(value, name) if takes_named_secret(cls, field) else value


def _secret_nodes(
    key: str, raw: Any, path: Any, nested: dict[str, dict[str, str]]
) -> list[tuple[dict[str, Any], Any, str]]:
    """(secret node, path, field) at kwarg ``key`` itself and at its dotted sub-paths."""
    if is_secret_node(raw):
        ident = raw["id"]
        ok = isinstance(ident, list) and len(ident) == 1 and isinstance(ident[0], str)
        return [(raw, path, key)] if ok else []
    found = []
    for dotted in nested.get(key, {}):
        current, at = raw, path
        for part in dotted.split("."):
            if not isinstance(current, dict):
                break
            current, at = current.get(part), (at, part)
        else:
            if is_secret_node(current) and isinstance(current["id"], list) and current["id"]:
                found.append((current, at, f"{key}.{dotted}"))
    return found
