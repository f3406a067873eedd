"""Authentication of OCI model deployment requests, as ``httpx.Auth`` objects.

Two kinds:

- :class:`BearerAuth`: ``Authorization: Bearer <token>``, for a vLLM server started
  with ``--api-key`` (or any gateway in front of one);
- :class:`OCISignerAuth`: OCI request signing by a signer of the ``oci`` SDK (the
  ``oci`` extra: ``pip install runwire[oci]``), adapted to httpx. The signer signs
  ``date``, ``(request-target)``, ``host`` and, for a body, ``content-length``,
  ``content-type`` and ``x-content-sha256``: the request is signed once it is final.

:func:`make_signer` builds the SDK's signer for an ``oci_auth`` mode: ``api_key``
(explicit key fields, else a profile of ``~/.oci/config``), ``security_token``
(a session profile), ``resource_principal`` or ``instance_principal``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Generator
from typing import Any, Literal

import httpx

from runwire.errors import ProviderSetupError

__all__ = [
    "OCI_AUTH_MODES",
    "BearerAuth",
    "OCIAuthMode",
    "OCISignerAuth",
    "make_signer",
    "pem_text",
    "refreshable",
]

OCIAuthMode = Literal["api_key", "security_token", "resource_principal", "instance_principal"]
OCI_AUTH_MODES: tuple[str, ...] = (
    "api_key",
    "security_token",
    "resource_principal",
    "instance_principal",
)
_INSTALL_HINT = "OCI request signing needs the oci SDK: pip install 'runwire[oci]'"


class BearerAuth(httpx.Auth):
    """Sends a bearer token; its repr never shows it."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=**********)"


class _SignableRequest:
    """The view of an httpx request the ``oci`` SDK's signers work on (the attributes
    of a ``requests.PreparedRequest`` they read: method, url, path_url, headers, body)."""

    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.path_url = request.url.raw_path.decode("ascii")
        self.headers = request.headers  # case-insensitive and mutable, like requests'
        self.body = request.content


class OCISignerAuth(httpx.Auth):
    """Signs each request with an ``oci`` SDK signer (``oci.signer.Signer``, a resource
    or instance principal signer, a security token signer, an ADS ``auth["signer"]``)."""

    requires_request_body = True  # the body's hash is signed

    def __init__(self, signer: Any) -> None:
        if not callable(getattr(signer, "do_request_sign", None)):
            raise ProviderSetupError(
                f"{type(signer).__name__} is not an OCI signer: pass an oci SDK signer "
                "(oci.signer.Signer, oci.auth.signers.*) or an ADS auth dict with 'signer'"
            )
        self.signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.pop("authorization", None)  # a retry is signed afresh
        self.signer.do_request_sign(_SignableRequest(request))
        yield request

    def refresh(self) -> bool:
        """Refresh the signer's security token, when it has one; whether it did."""
        refresh = getattr(self.signer, "refresh_security_token", None)
        if not callable(refresh):
            return False
        refresh()
        return True

    def __repr__(self) -> str:
        return f"OCISignerAuth({type(self.signer).__name__})"


def refreshable(auth: httpx.Auth | None) -> bool:
    """Whether a 401 may be cured by refreshing ``auth``'s security token."""
    return isinstance(auth, OCISignerAuth) and callable(
        getattr(auth.signer, "refresh_security_token", None)
    )


def _oci() -> Any:
    try:
        import oci
    except ImportError:
        raise ProviderSetupError(_INSTALL_HINT) from None
    return oci


def _from_config(oci: Any, config_file: str | None, profile: str) -> dict[str, Any]:
    path = os.path.expanduser(config_file or oci.config.DEFAULT_LOCATION)
    try:
        return dict(oci.config.from_file(path, profile))
    except oci.exceptions.ClientError as exc:  # ConfigFileNotFound, ProfileNotFound...
        raise ProviderSetupError(f"OCI config {path!r}, profile {profile!r}: {exc}") from None


def _security_token_signer(oci: Any, config: dict[str, Any]) -> Any:
    token_file = config.get("security_token_file")
    if not token_file:
        raise ProviderSetupError("the OCI profile has no security_token_file (oci session)")
    with open(os.path.expanduser(token_file), encoding="utf-8") as handle:
        token = handle.read().strip()
    key = oci.signer.load_private_key_from_file(config["key_file"], config.get("pass_phrase"))
    return oci.auth.signers.SecurityTokenSigner(token, key)


def pem_text(private_key: str) -> str:
    """A private key as PEM text. Secret values are one line, so besides PEM the key may
    be written with ``\\n`` escapes for its line breaks, or as base64 of the PEM file."""
    if "-----BEGIN" in private_key:
        return private_key.replace("\\n", "\n")
    try:
        decoded = base64.b64decode(private_key.strip(), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if "-----BEGIN" not in decoded:
        raise ProviderSetupError(
            "oci_private_key is not a PEM private key (nor base64 of one, nor PEM with \\n escapes)"
        )
    return decoded


def make_signer(
    mode: OCIAuthMode,
    *,
    tenancy: str | None = None,
    user: str | None = None,
    fingerprint: str | None = None,
    private_key: str | None = None,
    passphrase: str | None = None,
    config_file: str | None = None,
    profile: str = "DEFAULT",
    ambient: bool = True,
) -> Any:
    """The ``oci`` SDK signer of ``mode``.

    ``api_key`` uses the explicit key fields when they are all given, else (only with
    ``ambient``) a profile of the OCI config file. The other modes read the machine's
    identity, so they need ``ambient`` (a trusted manifest or Python code).
    """
    explicit = (tenancy, user, fingerprint, private_key)
    if mode == "api_key" and any(explicit):
        if not all(explicit):
            raise ProviderSetupError(
                "OCI API key signing needs oci_tenancy, oci_user, oci_fingerprint and "
                "oci_private_key together (or none of them, to read ~/.oci/config)"
            )
        oci = _oci()
        pem = pem_text(private_key)  # type: ignore[arg-type]
        return oci.signer.Signer(
            tenancy, user, fingerprint, None, passphrase, private_key_content=pem
        )
    if not ambient:
        raise ProviderSetupError(
            f"oci_auth={mode!r} reads this machine's OCI identity, which an untrusted "
            "manifest may not use; give the key fields as secrets in secrets_map, or load "
            "your own file with trusted=True"
        )
    oci = _oci()
    if mode == "resource_principal":
        return oci.auth.signers.get_resource_principals_signer()
    if mode == "instance_principal":
        return oci.auth.signers.InstancePrincipalsSecurityTokenSigner()
    config = _from_config(oci, config_file, profile)
    if mode == "security_token":
        return _security_token_signer(oci, config)
    return oci.signer.Signer(
        config["tenancy"],
        config["user"],
        config["fingerprint"],
        config.get("key_file"),
        pass_phrase=config.get("pass_phrase"),
        private_key_content=config.get("key_content"),
    )
