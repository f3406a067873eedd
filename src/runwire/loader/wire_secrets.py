"""Secret nodes in a class's secret fields: which value they get, and which they may not.

The walk in :mod:`runwire.loader.wire` calls these for kwargs its class declares secret
(and for dotted sub-paths such as ``auth.token``); a secret node anywhere else never gets
here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from runwire.errors import (
    FieldValidationError,
    ManifestError,
    MissingSecretError,
    SecretPlacementError,
)
from runwire.redaction import register_secret, unprintable
from runwire.schema.trust import secret_conflict

__all__ = ["SecretFields", "is_secret_node"]


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
                        current[last], dotted, owner, service, True, (where, last)
                    )
        return result

    def resolve_secret(
        self,
        node: dict[str, Any],
        field: str,
        owner: str,
        service: str | None,
        required: bool,
        path: Any,
    ) -> Any:
        """The secret's value, ``None`` when it is unset on an optional field, else an error.

        A secret named for another service than ``service`` (the class's
        ``lc_secret_service``) is refused: it would be sent where it does not belong.
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
                f"name a {service} secret here (e.g. !secret {service.upper()}_...)",  # type: ignore[union-attr]
            )
        value, origin = self.secrets_map.get(name), "secrets_map"
        if value is None and self.secrets_from_env:
            value, origin = os.environ.get(name) or None, "the environment"
        if value is not None:
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
        if not required:
            return None
        return self.fail(
            MissingSecretError,
            f"secret {name} for field {field!r} of {owner} is not set",
            path,
            f"pass secrets_map={{{name!r}: ...}}, or secrets_from_env=True with {name} "
            "in the environment",
        )
