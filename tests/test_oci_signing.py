"""OCI request signing: the ``oci`` SDK's signer through httpx, checked by the emulator."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import runwire
from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.oci import ChatOCIModelDeploymentVLLM, OCISignerAuth
from runwire.testing.oci_vllm import OCIVllmEmulator

oci = pytest.importorskip("oci")  # in the dev extra: CI has it

TENANCY = "ocid1.tenancy.oc1..runwiretest"
USER = "ocid1.user.oc1..runwiretest"
FINGERPRINT = "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0"
KEY_ID = f"{TENANCY}/{USER}/{FINGERPRINT}"


def _pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def keys() -> tuple[str, Any]:
    """A fresh test key pair: (private PEM, public key)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pem(key), key.public_key()


@pytest.fixture(scope="module")
def signing_emulator(keys: tuple[str, Any]) -> Iterator[OCIVllmEmulator]:
    with OCIVllmEmulator(tokens=[], public_keys={KEY_ID: keys[1]}) as emulator:
        yield emulator


@pytest.fixture
def emu(signing_emulator: OCIVllmEmulator) -> OCIVllmEmulator:
    signing_emulator.reset()
    return signing_emulator


def signed_chat(
    emu: OCIVllmEmulator, private_pem: str, **fields: Any
) -> ChatOCIModelDeploymentVLLM:
    return ChatOCIModelDeploymentVLLM(
        endpoint=emu.predict_url,
        oci_tenancy=TENANCY,
        oci_user=USER,
        oci_fingerprint=FINGERPRINT,
        oci_private_key=private_pem,
        **fields,
    )


def test_api_key_signing_is_accepted(emu: OCIVllmEmulator, keys: tuple[str, Any]) -> None:
    model = signed_chat(emu, keys[0])
    assert model.invoke("signed hello").content == "signed hello"
    (sent,) = emu.requests
    assert sent.caller == KEY_ID
    assert sent.headers["authorization"].startswith("Signature ")
    assert (
        'headers="date (request-target) host content-length content-type x-content-sha256"'
        in (sent.headers["authorization"])
    )
    assert sent.headers["route"] == "/v1/chat/completions"


def test_streams_and_async_calls_are_signed(emu: OCIVllmEmulator, keys: tuple[str, Any]) -> None:
    model = signed_chat(emu, keys[0])
    chunks = list(model.stream("signed stream"))
    assert "".join(c.content for c in chunks) == "signed stream"
    assert asyncio.run(model.ainvoke("signed async")).content == "signed async"
    assert [r.caller for r in emu.requests] == [KEY_ID, KEY_ID]


def test_an_unknown_key_is_refused(keys: tuple[str, Any]) -> None:
    with (
        OCIVllmEmulator(tokens=[], public_keys={}) as other,
        pytest.raises(ProviderError) as caught,
    ):
        signed_chat(other, keys[0]).invoke("x")
    assert caught.value.status == 401 and "not known" in caught.value.message


def test_a_body_changed_after_signing_is_refused(
    emu: OCIVllmEmulator, keys: tuple[str, Any]
) -> None:
    signer = oci.signer.Signer(TENANCY, USER, FINGERPRINT, None, private_key_content=keys[0])
    auth = OCISignerAuth(signer)
    body = b'{"messages": [{"role": "user", "content": "hi"}]}'
    with httpx.Client() as client:
        request = client.build_request(
            "POST", emu.predict_url, content=body, headers={"route": "/v1/chat/completions"}
        )
        signed = next(auth.sync_auth_flow(request))
        assert client.send(signed).status_code == 200
        forged = client.build_request(
            "POST", emu.predict_url, content=body.replace(b"hi", b"yo"), headers=signed.headers
        )
        response = client.send(forged)
    assert response.status_code == 401
    assert "x-content-sha256" in response.json()["message"]


class RefreshingSigner(oci.signer.Signer):
    """The SDK's signer plus the ``refresh_security_token`` of token-based signers."""

    refreshed = 0

    def refresh_security_token(self) -> None:
        type(self).refreshed += 1


def test_a_401_refreshes_the_security_token_once(
    emu: OCIVllmEmulator, keys: tuple[str, Any]
) -> None:
    signer = RefreshingSigner(TENANCY, USER, FINGERPRINT, None, private_key_content=keys[0])
    model = ChatOCIModelDeploymentVLLM(endpoint=emu.predict_url, auth={"signer": signer})
    emu.fail(401, times=1)
    assert model.invoke("after refresh").content == "after refresh"
    assert RefreshingSigner.refreshed == 1 and len(emu.requests) == 2
    emu.fail(401, times=2)
    with pytest.raises(ProviderError) as caught:
        model.invoke("x")
    assert caught.value.status == 401 and RefreshingSigner.refreshed == 2


def test_a_signer_that_cannot_refresh_fails_at_once(
    emu: OCIVllmEmulator, keys: tuple[str, Any]
) -> None:
    emu.fail(401, times=1)
    with pytest.raises(ProviderError):
        signed_chat(emu, keys[0]).invoke("x")
    assert len(emu.requests) == 1


def test_the_private_key_is_a_secret(emu: OCIVllmEmulator, keys: tuple[str, Any]) -> None:
    model = signed_chat(emu, keys[0], oci_private_key_passphrase="not-used-passphrase")
    text = runwire.dumps(model)
    body = keys[0].splitlines()[1]
    assert body not in text and body not in repr(model)
    kwargs = runwire.dumpd(model)["kwargs"]
    assert kwargs["oci_private_key"]["id"] == ["OCI_CLI_KEY_CONTENT"]
    assert kwargs["oci_private_key_passphrase"]["id"] == ["OCI_CLI_PASSPHRASE"]


def test_untrusted_files_sign_with_given_keys_only(
    emu: OCIVllmEmulator, keys: tuple[str, Any]
) -> None:
    data = runwire.dumpd(signed_chat(emu, keys[0]))
    model = runwire.load(
        data,
        allowed_objects="all",
        allowed_endpoints=["http://127.0.0.1"],
        secrets_map={"OCI_CLI_KEY_CONTENT": base64.b64encode(keys[0].encode()).decode()},
    )
    assert model.invoke("untrusted but keyed").content == "untrusted but keyed"
    partial = {**data, "kwargs": {**data["kwargs"], "oci_auth": "api_key"}}
    for name in ("oci_private_key", "oci_tenancy", "oci_user", "oci_fingerprint"):
        del partial["kwargs"][name]
    keyless = runwire.load(partial, allowed_objects="all", allowed_endpoints=["http://127.0.0.1"])
    with pytest.raises(ProviderSetupError, match="untrusted manifest"):
        keyless.invoke("x")


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    """A JWT of ``claims`` as an OCI session token looks to the SDK (it reads the claims
    and never checks the token's own signature: the service does)."""
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def test_resource_principal_signing_is_accepted(
    keys: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``oci_auth: resource_principal`` as inside an OCI job or notebook (version 2.2: the
    session token and its key in the environment): signed with keyId ``ST$<token>``."""
    import time

    now = int(time.time())
    claims = {"iat": now, "exp": now + 3600, "res_tenant": TENANCY, "res_compartment": TENANCY}
    token = _unsigned_jwt(claims)
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_RPST", token)
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", keys[0])
    monkeypatch.setenv("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1")
    with OCIVllmEmulator(tokens=[], public_keys={f"ST${token}": keys[1]}) as emulator:
        model = ChatOCIModelDeploymentVLLM(
            endpoint=emulator.predict_url, oci_auth="resource_principal"
        )
        assert model.invoke("from a job").content == "from a job"
        assert asyncio.run(model.ainvoke("async job")).content == "async job"
        assert [r.caller for r in emulator.requests] == [f"ST${token}"] * 2
        assert token not in repr(model) and token not in runwire.dumps(model)
