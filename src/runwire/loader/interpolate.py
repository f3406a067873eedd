"""``${VAR}`` and ``${VAR:-default}``: environment values in non-secret places.

Placeholders are replaced inside strings, anywhere but in secret nodes; ``$${`` writes
a literal ``${``. The substituted value is always text (typed fields convert it:
``"0.3"`` becomes ``0.3`` for a float field).

Variables whose names look like credentials (``*_SECRET*``, ``*TOKEN*``,
``*PASSWORD*``, ``*API_KEY*``, ...) are refused: interpolation writes plain values that
end up in prompts, logs and dumps; a credential belongs in a secret field as
``!secret NAME``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runwire.errors import ManifestError, format_path
from runwire.loader.source import is_secret_node

__all__ = [
    "Placeholder",
    "UnsetVariableError",
    "interpolate",
    "is_placeholder",
    "placeholders",
    "secret_like",
]

Parts = tuple[str | int, ...]
Locate = Callable[[Parts], tuple[str, int | None, int | None]]

_PLACEHOLDER = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_WHOLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")
_SECRET_LIKE = re.compile(
    r"SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_KEY", re.IGNORECASE
)


class UnsetVariableError(ManifestError):
    """A ``${VAR}`` has no value in the environment and no default."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``${VAR}`` occurrence: the variable, its default, and where it is."""

    name: str
    default: str | None
    path: Parts


def secret_like(name: str) -> bool:
    """Whether a variable name looks like a credential (interpolation refuses those)."""
    return _SECRET_LIKE.search(name) is not None


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` is exactly one placeholder (``"${VAR}"``, ``"${VAR:-x}"``)."""
    return type(value) is str and _WHOLE.match(value) is not None


def _walk_strings(data: Any, at: Parts) -> Iterator[tuple[Parts, str]]:
    if type(data) is str:
        yield at, data
    elif isinstance(data, dict):
        if is_secret_node(data):
            return
        for key, value in data.items():
            yield from _walk_strings(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk_strings(value, (*at, i))


def placeholders(data: Any) -> list[Placeholder]:
    """Every placeholder in ``data`` (escaped ``$${...}`` excluded), in document order."""
    found = []
    for at, text in _walk_strings(data, ()):
        if "${" not in text:
            continue
        for match in _PLACEHOLDER.finditer(text):
            if not match.group(1):
                found.append(Placeholder(match.group(2), match.group(3), at))
    return found


def interpolate(
    data: Any,
    env: Mapping[str, str],
    *,
    keep_unset: bool = False,
    locate: Locate | None = None,
) -> Any:
    """``data`` with placeholders replaced from ``env``.

    An unset variable with no default is an :class:`UnsetVariableError` naming it and
    its location, unless ``keep_unset`` (then the placeholder text stays, for offline
    validation).
    """

    def fail(error: type[ManifestError], message: str, at: Parts, hint: str) -> None:
        file, line, column = locate(at) if locate else (None, None, None)
        raise error(message, path=format_path(at), hint=hint, file=file, line=line, column=column)

    def replace_in(text: str, at: Parts) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1):  # $${...}: a literal ${...}
                return match.group(0)[1:]
            name, default = match.group(2), match.group(3)
            if secret_like(name):
                fail(
                    ManifestError,
                    f"${{{name}}} looks like a credential; interpolation writes plain values",
                    at,
                    f"put it in a secret field as `!secret {name}` (or {{_secret: {name}}})",
                )
            value = env.get(name)
            if value:
                return value
            if default is not None:
                return default
            if value is not None:  # set but empty, and no default
                return value
            if keep_unset:
                return match.group(0)
            fail(
                UnsetVariableError,
                f"environment variable {name} is not set and has no default",
                at,
                f"export {name}=..., or write ${{{name}:-default}}",
            )
            return ""  # unreachable: fail raises

        return _PLACEHOLDER.sub(one, text)

    def walk(value: Any, at: Parts) -> Any:
        if type(value) is str:
            return replace_in(value, at) if "${" in value else value
        if isinstance(value, dict):
            if is_secret_node(value):
                return value
            return {key: walk(item, (*at, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*at, i)) for i, item in enumerate(value)]
        return value

    return walk(data, ())
