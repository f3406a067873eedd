"""How far the objects being built are trusted: ambient credentials and endpoints.

Objects built by Python code, and manifests loaded as trusted (a deployer's own files:
``load_file``, ``runwire run``, ``runwire serve``), are :data:`TRUSTED`. A manifest loaded
with ``runwire.loads`` / ``runwire.load`` defaults is untrusted: it may come from a user
upload, a database row or a request. While the loader builds its objects the current
:class:`Trust` says so, and classes that talk to the network capture it when they are
built (see ``providers/aws/client.py``). An untrusted object:

- never gets ambient credentials: no secret field defaults read from the environment,
  no named credentials profile, no default credential chain (instance roles, SSO...);
  its credentials are the secrets the caller passed in ``secrets_map``;
- only talks to its service's own endpoints, and to ``allowed_endpoints`` the caller
  listed.

Independently of trust, a secret is only sent to the service it belongs to: a secret
whose name carries another service's prefix (``OPENAI_API_KEY`` in an AWS field) is
refused (:func:`secret_conflict`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "TRUSTED",
    "UNTRUSTED",
    "Trust",
    "TrustMark",
    "UntrustedValueError",
    "current_trust",
    "endpoint_matches",
    "make_trust",
    "secret_conflict",
    "trust_of",
    "trust_scope",
]


class UntrustedValueError(ValueError):
    """A value an untrusted manifest may not set; ``hint`` says how to make it work."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Trust:
    """The trust given to objects built now."""

    trusted: bool
    """Ambient credentials and any endpoint (a deployer's own files, Python code)."""
    allowed_endpoints: tuple[str, ...] = ()
    """Endpoints an untrusted object may call besides its service's own (see
    :func:`endpoint_matches` for the pattern form)."""

    def allows_endpoint(self, url: str) -> bool:
        """Whether ``url`` is on this trust's allowlist (trusted allows everything)."""
        return self.trusted or any(endpoint_matches(url, rule) for rule in self.allowed_endpoints)


TRUSTED = Trust(trusted=True)
UNTRUSTED = Trust(trusted=False)

_current: contextvars.ContextVar[Trust] = contextvars.ContextVar("runwire_trust", default=TRUSTED)


def current_trust() -> Trust:
    """The trust of objects being built now (``TRUSTED`` outside the loader)."""
    return _current.get()


class TrustMark:
    """The trust an object was built under, kept in its ``_trust`` private attribute.

    Not part of the object's value: any two marks compare equal, so an object loaded
    back from its own dump (untrusted by default) still equals the original.
    """

    __slots__ = ("trust",)

    def __init__(self, trust: Trust | None = None) -> None:
        self.trust = trust if trust is not None else current_trust()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustMark)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<TrustMark trusted={self.trust.trusted}>"


def trust_of(obj: object) -> Trust:
    """The trust ``obj`` was built under (objects that do not record it: trusted).

    Code that builds an object from another at run time (configurable fields, a model
    delegating to another) builds it under this, so a rebuilt object is trusted no more
    than the one it came from.
    """
    private = getattr(obj, "__pydantic_private__", None)
    mark = private.get("_trust") if isinstance(private, dict) else None
    return mark.trust if isinstance(mark, TrustMark) else TRUSTED


@contextmanager
def trust_scope(trust: Trust) -> Iterator[Trust]:
    """Build objects under ``trust`` within the ``with`` block."""
    token = _current.set(trust)
    try:
        yield trust
    finally:
        _current.reset(token)


def make_trust(trusted: bool, allowed_endpoints: Iterable[str] = ()) -> Trust:
    """A :class:`Trust`, with each allowlist entry checked for shape."""
    rules = tuple(allowed_endpoints)
    for rule in rules:
        _split_rule(rule)
    if trusted:
        return TRUSTED
    return Trust(trusted=False, allowed_endpoints=rules) if rules else UNTRUSTED


def _split_rule(rule: str) -> tuple[str, str, int | None]:
    """(scheme, host pattern, port or None) of an allowlist entry; ValueError if malformed."""
    parts = urlsplit(rule)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"allowed endpoint {rule!r} must look like https://host[:port] "
            "(host may start with '*.'; no port means any port)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"allowed endpoint {rule!r} must be an origin: scheme, host and port only")
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if parts.port is not None else host
    return parts.scheme, host.lower().strip("[]"), parts.port


def endpoint_matches(url: str, rule: str) -> bool:
    """Whether ``url`` is within the allowlist entry ``rule``.

    ``rule`` is an origin: ``https://host``, ``https://host:port`` or
    ``https://*.example.com`` (any subdomain). Without a port any port matches, so
    ``http://127.0.0.1`` admits every loopback emulator. The scheme must be equal.
    """
    scheme, host, port = _split_rule(rule)
    try:
        target = urlsplit(url)
        target_port = target.port
    except ValueError:
        return False
    target_host = (target.hostname or "").lower()
    if target.scheme != scheme or not target_host or target.username or target.password:
        return False
    if port is not None and target_port != port:
        return False
    if host.startswith("*."):
        return target_host.endswith(host[1:]) and len(target_host) > len(host) - 1
    return target_host == host


# Secrets belong to the service their name says. Prefixes of well-known services' own
# variable names; a secret with none of them (``MY_KEY``) may stand in any secret field.
SERVICE_PREFIXES: dict[str, str] = {
    "AWS_": "aws",
    "OPENAI_": "openai",
    "AZURE_OPENAI_": "azure",
    "AZURE_": "azure",
    "OCI_": "oci",
    "ANTHROPIC_": "anthropic",
    "GOOGLE_": "google",
    "GEMINI_": "google",
    "COHERE_": "cohere",
    "MISTRAL_": "mistral",
    "HF_": "huggingface",
    "HUGGINGFACE": "huggingface",
    "GITHUB_": "github",
    "GH_": "github",
    "GITLAB_": "gitlab",
    "SLACK_": "slack",
    "STRIPE_": "stripe",
    "LANGCHAIN_": "langsmith",
    "LANGSMITH_": "langsmith",
    "PINECONE_": "pinecone",
    "RUNWIRE_": "runwire",
}


def secret_service(name: str) -> str | None:
    """The service a secret's name says it belongs to (longest prefix), if any."""
    upper = name.upper()
    best: tuple[int, str] | None = None
    for prefix, service in SERVICE_PREFIXES.items():
        if upper.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), service)
    return best[1] if best else None


def secret_conflict(name: str, service: str | None) -> str | None:
    """The other service ``name`` belongs to, when a field of ``service`` would send it
    there; ``None`` when the secret may stand in that field."""
    if service is None:
        return None
    owner = secret_service(name)
    return owner if owner is not None and owner != service else None
