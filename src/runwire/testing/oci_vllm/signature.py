"""Checking OCI request signatures (draft-cavage HTTP signatures, ``rsa-sha256``).

An OCI-signed request carries ``Authorization: Signature version="1",keyId="<tenancy>/
<user>/<fingerprint>",algorithm="rsa-sha256",headers="date (request-target) host
content-length content-type x-content-sha256",signature="<base64>"``. The signature is
RSA PKCS#1 v1.5 over SHA-256 of the signing string: one ``name: value`` line per listed
header (``(request-target)`` is ``post /path?query``), joined by newlines. A request
with a body must sign the three body headers, and ``x-content-sha256`` must be the
base64 SHA-256 of the body. The ``date`` must be within :data:`CLOCK_SKEW` of now.

``cryptography`` does the RSA work; it is imported on first use.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CLOCK_SKEW", "SignatureError", "Signed", "parse_authorization", "verify"]

CLOCK_SKEW = 300.0
"""Seconds a request's ``date`` may differ from the emulator's clock."""
_BODY_HEADERS = ("content-length", "content-type", "x-content-sha256")
_REQUIRED = ("date", "(request-target)", "host")
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class SignatureError(Exception):
    """Why a signed request is refused (answered 401 NotAuthenticated)."""


@dataclass(frozen=True)
class Signed:
    """A verified signature: who signed, and the headers covered."""

    key_id: str
    headers: tuple[str, ...]


def parse_authorization(value: str) -> dict[str, str]:
    """The parameters of a ``Signature ...`` Authorization header."""
    scheme, _, rest = value.partition(" ")
    if scheme != "Signature":
        raise SignatureError("the Authorization header is not an OCI signature")
    return dict(_PARAM.findall(rest))


def _signing_string(
    names: tuple[str, ...], method: str, target: str, headers: Mapping[str, str]
) -> bytes:
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"signed header {name!r} is missing from the request")
    return "\n".join(lines).encode("utf-8")


def _check_date(value: str | None, now: float) -> None:
    if not value:
        raise SignatureError("the request has no date header")
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise SignatureError(f"the date header {value!r} is not an HTTP date") from None
    if abs(when - now) > CLOCK_SKEW:
        raise SignatureError("the date header is too far from the server's clock")


def _check_body(headers: Mapping[str, str], body: bytes) -> None:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if headers.get("x-content-sha256") != digest:
        raise SignatureError("x-content-sha256 is not the SHA-256 of the body")
    if headers.get("content-length") != str(len(body)):
        raise SignatureError("content-length is not the length of the body")


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key_of: Callable[[str], Any | None],
    *,
    now: float | None = None,
) -> Signed:
    """Check a signed request; ``headers`` have lower-case names, ``target`` is the
    path and query, ``public_key_of`` gives a key id's public key (a ``cryptography``
    RSA public key, or None for an unknown id)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    params = parse_authorization(headers.get("authorization", ""))
    if params.get("algorithm", "rsa-sha256") != "rsa-sha256":
        raise SignatureError(f"unsupported signature algorithm {params.get('algorithm')!r}")
    key_id, signature = params.get("keyId"), params.get("signature")
    if not key_id or not signature:
        raise SignatureError("the signature has no keyId or no signature")
    names = tuple(params.get("headers", "date").lower().split())
    needed = _REQUIRED + (_BODY_HEADERS if method.upper() in ("POST", "PUT", "PATCH") else ())
    missing = [name for name in needed if name not in names]
    if missing:
        raise SignatureError(f"the signature does not cover {', '.join(missing)}")
    key = public_key_of(key_id)
    if key is None:
        raise SignatureError("the signing key is not known to this server")
    _check_date(headers.get("date"), time.time() if now is None else now)
    if "x-content-sha256" in names:
        _check_body(headers, body)
    message = _signing_string(names, method, target, headers)
    try:
        key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise SignatureError("the signature does not match the request") from None
    return Signed(key_id, names)
