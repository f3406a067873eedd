"""AWS Signature Version 4 verification, written from the specification.

The server rebuilds the canonical request from what it received (method, raw path,
query, the signed headers, the body), derives the signing key from the secret it
knows for the access key id, and compares signatures in constant time.

Non-S3 services canonicalize the path by percent-encoding the path *as sent* once
more: a model id ``a:0`` arrives as ``/model/a%3A0/converse`` and is signed as
``/model/a%253A0/converse``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

__all__ = [
    "ALGORITHM",
    "AuthError",
    "Authorization",
    "canonical_request",
    "parse_authorization",
    "signature",
    "signing_key",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
_UNSIGNED = frozenset(("UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
_PARAM = re.compile(r"\s*([A-Za-z]+)\s*=\s*([^,\s]*)\s*(?:,|$)")
_DATE = re.compile(r"^\d{8}T\d{6}Z$")

MISSING_TOKEN = "Missing Authentication Token"
UNKNOWN_KEY = "The security token included in the request is invalid."
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


class AuthError(Exception):
    """A request that fails authentication: the HTTP status and AWS error code to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Authorization:
    """The parts of an ``AWS4-HMAC-SHA256`` Authorization header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def _incomplete(message: str) -> AuthError:
    return AuthError(400, "IncompleteSignatureException", message)


def parse_authorization(header: str) -> Authorization:
    """Split an Authorization header; raises :class:`AuthError` when it is malformed."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"Unsupported authorization type {algorithm!r}: expected {ALGORITHM}")
    params = {name: value for name, value in _PARAM.findall(rest)}
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in params]
    if missing:
        raise _incomplete(
            f"Authorization header requires {', '.join(repr(m) for m in missing)} parameter(s)."
        )
    credential = params["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not credential[0]:
        raise _incomplete(
            "Credential should be scoped to a valid region and service: "
            "ACCESS_KEY/DATE/REGION/SERVICE/aws4_request."
        )
    key, date, region, service, _ = credential
    signed = tuple(params["SignedHeaders"].lower().split(";"))
    return Authorization(key, date, region, service, signed, params["Signature"].lower())


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    normalized = "/".join(out)
    if path.endswith(("/.", "/..")):
        normalized += "/"
    return normalized or "/"


def _canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&") if query else ():
        name, _, value = item.partition("=")
        pairs.append(
            (
                quote(unquote(name), safe="-_.~"),
                quote(unquote(value.replace("+", " ")), safe="-_.~"),
            )
        )
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request string (``headers``: lower-case name -> received values)."""
    lines = [
        method.upper(),
        quote(_remove_dot_segments(raw_path or "/"), safe="/~"),
        _canonical_query(query),
    ]
    lines += [
        f"{name}:{','.join(' '.join(v.split()) for v in headers.get(name, ()))}"
        for name in signed_headers
    ]
    lines += ["", ";".join(signed_headers), payload_hash]
    return "\n".join(lines)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """``kSigning`` = HMAC chain over the scope, starting from ``"AWS4" + secret``."""
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def signature(secret: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    """The hex signature of ``canonical`` for the scope in ``auth``."""
    string_to_sign = "\n".join(
        (ALGORITHM, amz_date, auth.scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    )
    key = signing_key(secret, auth.date, auth.region, auth.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _payload_hash(headers: Mapping[str, Sequence[str]], body: bytes) -> str:
    computed = hashlib.sha256(body).hexdigest()
    declared = (headers.get("x-amz-content-sha256") or [None])[0]
    if declared is None or declared in _UNSIGNED:
        return declared or computed
    if declared.lower() != computed:
        raise AuthError(
            400,
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    return declared


def verify(
    method: str,
    raw_path: str,
    query: str,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    secret_of: Callable[[str], str | None] | None,
) -> Authorization:
    """Check a request's SigV4 signature; returns the parsed Authorization.

    ``headers`` maps lower-case names to every received value. ``secret_of`` gives the
    secret of an access key id (None: unknown key); ``secret_of=None`` checks only that
    an Authorization header is present and well formed. Raises :class:`AuthError`.
    """
    header = (headers.get("authorization") or [None])[0]
    if not header:
        raise AuthError(403, "MissingAuthenticationTokenException", MISSING_TOKEN)
    auth = parse_authorization(header)
    if secret_of is None:
        return auth
    secret = secret_of(auth.access_key_id)
    if secret is None:
        raise AuthError(403, "UnrecognizedClientException", UNKNOWN_KEY)
    amz_date = (headers.get("x-amz-date") or [""])[0]
    if not _DATE.match(amz_date):
        raise _incomplete("Authorization header requires existence of a valid X-Amz-Date header.")
    if amz_date[:8] != auth.date:
        raise AuthError(
            403, "InvalidSignatureException", "Date in Credential scope does not match."
        )
    if "host" not in auth.signed_headers:
        raise _incomplete("Signed headers must include 'host'.")
    canonical = canonical_request(
        method, raw_path, query, headers, auth.signed_headers, _payload_hash(headers, body)
    )
    expected = signature(secret, auth, amz_date, canonical).encode("ascii")
    if not hmac.compare_digest(expected, auth.signature.encode("utf-8")):
        raise AuthError(403, "InvalidSignatureException", BAD_SIGNATURE)
    return auth
