"""``${VAR}`` and ``${VAR:-default}``: environment values in non-secret places.

Placeholders are replaced inside strings, anywhere but in secret nodes; ``$${`` writes
a literal ``${``. The substituted value is always text (typed fields convert it:
``"0.3"`` becomes ``0.3`` for a float field).

Interpolation writes plain values, which end up in prompts, logs and dumps, so a
variable that holds a credential must not be read this way. The rule, in order:

1. A name configured as a secret is never interpolated, allowlisted or not: the id of
   a secret node in the same manifest, a name in ``secret_names`` (the loader's
   ``secrets_map`` keys), or the secret id of a registered class's secret field
   (``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ...).
2. A name on the allowlist is interpolated: ``allow=`` names or shell-style patterns
   (``MYAPP_*``), by default the comma-separated ``RUNWIRE_INTERPOLATE_ALLOW`` variable.
3. Any other name is refused when it is credential-shaped. The name is split into
   words at ``_`` and at lower-to-upper case changes, compared upper-cased, digits at a
   word's end ignored (``KEY2`` is ``KEY``) and numeric words skipped. It is
   credential-shaped when a word is one of :data:`CREDENTIAL_WORDS`, when its last word
   is one of :data:`CREDENTIAL_LAST_WORDS` (``OPENAI_KEY``, ``GITHUB_TOKEN``, but not
   ``MAX_TOKENS``, ``TOKENIZER`` or ``TOKEN_LIMIT``), when it holds one of
   :data:`CREDENTIAL_PHRASES` (``AWS_ACCESS_KEY_ID``), or when it is a connection URL:
   last word ``URL``/``URI`` after a word of :data:`DATABASE_WORDS` (``DATABASE_URL``,
   ``REDIS_URL``; ``BEDROCK_ENDPOINT_URL`` is fine). :data:`PLAIN_NAMES` (the shell's
   ``PWD``) are never credential-shaped.

A manifest loaded as **untrusted** (``trusted=False``: someone else's file) reads only
the allowlist: rule 3 becomes "any other name is refused", so such a file can never
feed a prompt, a model id or an endpoint from the deployer's environment unless the
deployer listed the variable (``${VAR:-default}`` included: allowlist the name, or the
file gets an error, never a silent default).

Whatever the name, a value that is a URL carrying a password (``scheme://user:pass@``)
is refused too. Errors name the variable, never its value, and their hint is a change
that loads: ``!secret NAME`` only in a field its class declares secret (with a name
that belongs to the field's service), the allowlist only where it admits the name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from runwire.errors import ManifestError, format_path
from runwire.loader.source import SECRET_KEY, is_secret_node

__all__ = [
    "ALLOW_VARIABLE",
    "BUILTIN_SECRET_IDS",
    "CREDENTIAL_LAST_WORDS",
    "CREDENTIAL_PHRASES",
    "CREDENTIAL_WORDS",
    "DATABASE_WORDS",
    "PLAIN_NAMES",
    "UNTRUSTED_REASON",
    "InterpolationRefusedError",
    "Placeholder",
    "UnsetVariableError",
    "allowlist",
    "interpolate",
    "is_placeholder",
    "placeholders",
    "refusal",
    "secret_like",
]

Parts = tuple[str | int, ...]
Locate = Callable[[Parts], tuple[str, int | None, int | None]]

ALLOW_VARIABLE = "RUNWIRE_INTERPOLATE_ALLOW"
"""The variable whose comma-separated names and patterns ``interpolate`` allows by default."""

CREDENTIAL_WORDS: frozenset[str] = frozenset(
    {
        "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE",
        "CREDENTIAL", "CREDENTIALS", "CREDS", "AUTH", "AUTHORIZATION", "SIGNING",
        "PRIVATE", "DSN", "APIKEY",
    }
)  # fmt: skip
"""A name holding one of these words anywhere is credential-shaped."""

CREDENTIAL_LAST_WORDS: frozenset[str] = frozenset({"KEY", "TOKEN", "PASS", "PWD"})
"""A name ending with one of these words is credential-shaped (``MAX_TOKENS`` is not)."""

CREDENTIAL_PHRASES: tuple[tuple[str, ...], ...] = (
    ("ACCESS", "KEY"),
    ("API", "KEY"),
    ("CONNECTION", "STRING"),
)
"""Consecutive words that make a name credential-shaped wherever they stand."""

DATABASE_WORDS: frozenset[str] = frozenset(
    {
        "DATABASE", "DB", "POSTGRES", "POSTGRESQL", "PG", "MYSQL", "MARIADB", "REDIS",
        "MONGO", "MONGODB", "AMQP", "RABBITMQ", "BROKER", "SQLALCHEMY", "CELERY",
    }
)  # fmt: skip
"""Words that make a name ending in ``URL``/``URI`` a connection string."""

PLAIN_NAMES: frozenset[str] = frozenset({"PWD", "OLDPWD"})
"""Names that are never credential-shaped (the shell's working directories)."""

BUILTIN_SECRET_IDS: frozenset[str] = frozenset(
    {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
        "OCI_LLM_BEARER_TOKEN", "OCI_CLI_KEY_CONTENT", "OCI_CLI_PASSPHRASE",
        "OPENAI_API_KEY",
        "REDIS_URL", "PG_DSN",
    }
)  # fmt: skip
"""The secret ids of runwire's own classes (a test keeps this equal to the registry's)."""

_PLACEHOLDER = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_WHOLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")
_WORD = re.compile(r"[A-Z]+[a-z0-9]*|[a-z0-9]+")
_URL_WITH_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]*:[^/?#@\s]*@")


class UnsetVariableError(ManifestError):
    """A ``${VAR}`` has no value in the environment and no default."""


class InterpolationRefusedError(ManifestError):
    """A ``${VAR}`` names a secret or a credential-shaped variable (see the module doc)."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``${VAR}`` occurrence: the variable, its default, and where it is."""

    name: str
    default: str | None
    path: Parts


def _words(name: str) -> list[str]:
    """``"openaiApiKey2"`` -> ``["OPENAI", "API", "KEY"]``: the words the rule compares."""
    words = []
    for part in name.split("_"):
        for word in _WORD.findall(part):
            word = word.upper().rstrip("0123456789")
            if word:
                words.append(word)
    return words


def _credential_reason(name: str) -> str | None:
    """Why ``name`` is credential-shaped (rule 3 of the module doc), or ``None``."""
    if name.upper() in PLAIN_NAMES:
        return None
    words = _words(name)
    if not words:
        return None
    for word in words:
        if word in CREDENTIAL_WORDS:
            return f"it holds the word {word}"
    if words[-1] in CREDENTIAL_LAST_WORDS:
        return f"it ends with the word {words[-1]}"
    for phrase in CREDENTIAL_PHRASES:
        size = len(phrase)
        if any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1)):
            return f"it holds {'_'.join(phrase)}"
    if words[-1] in ("URL", "URI") and DATABASE_WORDS.intersection(words[:-1]):
        return "it names a connection URL"
    return None


def secret_like(name: str) -> bool:
    """Whether a variable name is credential-shaped (rule 3 of the module doc)."""
    return _credential_reason(name) is not None


def allowlist(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The names and patterns in ``RUNWIRE_INTERPOLATE_ALLOW`` (of ``env``, default
    ``os.environ``), comma separated, blanks dropped."""
    text = (os.environ if env is None else env).get(ALLOW_VARIABLE, "")
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _allowed(name: str, allow: Iterable[str]) -> bool:
    return any(name == pattern or fnmatchcase(name, pattern) for pattern in allow)


_registered: tuple[int, frozenset[str]] = (-1, BUILTIN_SECRET_IDS)


def _registered_secret_ids() -> frozenset[str]:
    """Secret ids of runwire's classes and of every class registered so far."""
    global _registered
    from runwire.schema.ids import id_table
    from runwire.schema.serializable import class_plan

    if _registered[0] != id_table.version:
        found = set(BUILTIN_SECRET_IDS)
        for entry in id_table.entries:
            if entry.group == "user" and entry.cls is not None:
                found.update(class_plan(entry.cls).secrets.values())
        _registered = (id_table.version, frozenset(found))
    return _registered[1]


UNTRUSTED_REASON = "the manifest is loaded as untrusted, and it is not on the allowlist"
"""Why an untrusted manifest may not read a variable (rule 3 for untrusted files)."""


def refusal(
    name: str,
    *,
    allow: Iterable[str] = (),
    secret_names: Iterable[str] = (),
    trusted: bool = True,
) -> str | None:
    """Why ``${name}`` may not be interpolated, or ``None`` when it may (the module rule).

    ``secret_names`` are the names configured as secrets besides the registered classes'
    secret ids; ``allow`` the allowlist (names or shell-style patterns); an untrusted
    manifest (``trusted=False``) reads allowlisted names only.
    """
    if name in set(secret_names):
        return "it is configured as a secret (a secret node's id, or a secrets_map name)"
    if name in _registered_secret_ids():
        return "it is configured as a secret (the secret id of a registered class's field)"
    if _allowed(name, allow):
        return None
    if not trusted:
        return UNTRUSTED_REASON
    reason = _credential_reason(name)
    return None if reason is None else f"its name looks like a credential ({reason})"


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


def _secret_ids_in(data: Any) -> Iterator[str]:
    """The names of the secret nodes in ``data`` (authoring ``_secret`` and wire form)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if is_secret_node(value):
                ident = value.get(SECRET_KEY, value.get("id"))
                if isinstance(ident, list) and ident:
                    ident = ident[0]
                if isinstance(ident, str):
                    yield ident
                continue
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _secret_field(data: Any, at: Parts) -> tuple[str, str | None] | None:
    """(the field's own secret id, the service its class sends secrets to) when ``at``
    is a kwarg its class declares secret (so ``!secret`` works there), else ``None``."""
    from runwire.loader.authoring import TYPE_KEY, resolve_type
    from runwire.loader.registry import class_for, lookup
    from runwire.schema.serializable import class_plan

    if not at or not isinstance(at[-1], str):
        return None
    parents = [data]
    for part in at[:-1]:
        try:
            parents.append(parents[-1][part])
        except (KeyError, IndexError, TypeError):
            return None
    owner, entry = parents[-1], None
    if isinstance(owner, dict) and TYPE_KEY in owner:
        entry = resolve_type(owner[TYPE_KEY])[1]
    elif len(parents) > 1 and at[-2] == "kwargs" and isinstance(parents[-2], dict):
        ident = parents[-2].get("id")
        if isinstance(ident, list) and all(isinstance(p, str) for p in ident):
            entry = lookup(tuple(ident))
    if entry is None:
        return None
    try:
        cls = class_for(entry)
        secret_id = class_plan(cls).secrets.get(at[-1])
    except Exception:  # a class that fails to import: no hint beats a wrong one
        return None
    return None if secret_id is None else (secret_id, getattr(cls, "lc_secret_service", None))


def _secret_hint(name: str, field: tuple[str, str | None]) -> str:
    """The ``!secret`` hint for a secret field: ``name`` when the field's service may
    receive it, else the field's own secret id (a name that belongs to the service)."""
    from runwire.schema.trust import secret_conflict

    own, service = field
    if secret_conflict(name, service) is None:
        return f"this is a secret field: write `!secret {name}` (or {{_secret: {name}}})"
    return (
        f"this is a secret field, and {name} belongs to another service: write "
        f"`!secret {own}` (or another {service} secret's name)"
    )


def _origin(name: str, value: str | None, default: str | None) -> str:
    """Where ``${name}``'s value comes from, for messages (never the environment's value)."""
    if value:
        return f"environment variable {name}"
    if default is not None:
        return f"its default {default[:60]!r} ({name} is not set)"
    if value is not None:
        return f"environment variable {name}, which is empty"
    return f"{UNSET_ORIGIN}: {name} is not set and has no default"


UNSET_ORIGIN = "nothing yet"
"""How an origin (see ``interpolate``'s record) starts for a variable with no value yet."""


def interpolate(
    data: Any,
    env: Mapping[str, str],
    *,
    keep_unset: bool = False,
    locate: Locate | None = None,
    allow: Iterable[str] | None = None,
    secret_names: Iterable[str] = (),
    trusted: bool = True,
    record: dict[Parts, list[tuple[str, str]]] | None = None,
) -> Any:
    """``data`` with placeholders replaced from ``env``.

    An unset variable with no default is an :class:`UnsetVariableError` naming it and
    its location, unless ``keep_unset`` (then the placeholder text stays, for offline
    validation). A variable the module rule refuses is an
    :class:`InterpolationRefusedError`. ``allow`` defaults to :func:`allowlist` of
    ``env``; ``secret_names`` adds names configured as secrets (``secrets_map`` keys);
    ``trusted=False`` reads allowlisted names only. ``record``, when given, receives
    path -> [(variable, where its value came from)] for every string interpolated (so
    a type error there can name the variable).
    """
    allowed = allowlist(env) if allow is None else tuple(allow)
    secrets: set[str] | None = None  # computed at the first placeholder
    verdicts: dict[str, str | None] = {}

    def fail(error: type[ManifestError], message: str, at: Parts, hint: str) -> None:
        file, line, column = locate(at) if locate else (None, None, None)
        raise error(message, path=format_path(at), hint=hint, file=file, line=line, column=column)

    def refuse(name: str, reason: str, at: Parts) -> None:
        field = _secret_field(data, at)
        if field is not None:
            hint = _secret_hint(name, field)
        elif reason.startswith("it is configured"):
            hint = "a secret reaches only fields its class declares secret; write a literal "
            hint += "or a non-secret variable here"
        elif reason == UNTRUSTED_REASON:
            hint = f"to let untrusted manifests read {name}, allow it: {ALLOW_VARIABLE}={name} "
            hint += "(comma separated); or write a literal here"
        else:
            hint = f"if {name} holds no secret, allow it: {ALLOW_VARIABLE}={name} "
            hint += "(comma separated; or interpolate(allow=[...]))"
        fail(InterpolationRefusedError, f"${{{name}}} is not interpolated: {reason}", at, hint)

    def check(name: str, at: Parts) -> None:
        nonlocal secrets
        if name not in verdicts:
            if secrets is None:
                secrets = set(secret_names)
                secrets.update(_secret_ids_in(data))
            verdicts[name] = refusal(name, allow=allowed, secret_names=secrets, trusted=trusted)
        reason = verdicts[name]
        if reason is not None:
            refuse(name, reason, at)

    def replace_in(text: str, at: Parts) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1):  # $${...}: a literal ${...}
                return match.group(0)[1:]
            name, default = match.group(2), match.group(3)
            check(name, at)
            value = env.get(name)
            if record is not None:
                record.setdefault(at, []).append((name, _origin(name, value, default)))
            if value and _URL_WITH_PASSWORD.match(value):
                fail(
                    InterpolationRefusedError,
                    f"${{{name}}} is not interpolated: its value is a URL with a password",
                    at,
                    "drop user:password@ from the URL and give the password to a secret "
                    "field (`!secret NAME`)",
                )
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
