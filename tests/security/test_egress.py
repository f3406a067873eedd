"""Untrusted manifests get no ambient credentials and only reach allowed endpoints.

The attack this holds off: a manifest chooses ``endpoint_url`` (a host it controls) and
either names another service's secret in an AWS key field, or names no secret at all and
lets the environment's AWS credentials flow to that host.
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET, loopback_http
from runwire.errors import FieldValidationError, ProviderSetupError, SecretPlacementError
from runwire.providers.aws.endpoints import is_aws_endpoint
from runwire.schema.trust import (
    UNTRUSTED,
    endpoint_matches,
    make_trust,
    secret_conflict,
    trust_scope,
)

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
AWS_ID = ["runwire", "providers", "aws", "ChatBedrockConverse"]
AMBIENT = {
    "AWS_ACCESS_KEY_ID": "AKIAAMBIENTKEY000001",
    "AWS_SECRET_ACCESS_KEY": "ambient-secret-never-sent",
    "AWS_SESSION_TOKEN": "ambient-session-token-never-sent",
    "AWS_BEARER_TOKEN_BEDROCK": "ambient-bearer-never-sent",
    "OPENAI_API_KEY": "sk-openai-never-sent-to-aws",
}


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request's headers and answers 400, as a hostile endpoint might."""

    seen: list[dict[str, str]]

    def do_POST(self) -> None:
        self.seen.append(dict(self.headers))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"message":"no"}'
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-ErrorType", "ValidationException")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def hostile() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    with loopback_http(handler) as server:
        yield f"http://127.0.0.1:{server.server_port}", seen


@pytest.fixture
def ambient(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AMBIENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def _manifest(**kwargs: Any) -> str:
    node = {"lc": 1, "type": "constructor", "id": AWS_ID, "kwargs": {"model": MODEL, **kwargs}}
    return orjson.dumps(node).decode()


def _secret(name: str) -> dict[str, Any]:
    return {"lc": 1, "type": "secret", "id": [name]}


def _converse(model: Any) -> None:
    model.invoke("hi")


def _no_ambient_value_in(seen: list[dict[str, str]]) -> None:
    text = repr(seen)
    for value in AMBIENT.values():
        assert value not in text


# -- the attacks -------------------------------------------------------------------------
def test_a_manifest_chosen_endpoint_is_refused_when_loading(ambient: None, hostile: Any) -> None:
    url, seen = hostile
    with pytest.raises(FieldValidationError) as caught:
        runwire.loads(_manifest(endpoint_url=url), allowed_objects="all")
    assert caught.value.path == "$.kwargs.endpoint_url"
    assert "allowed_endpoints" in str(caught.value)
    assert seen == []


def test_no_ambient_credentials_reach_an_allowed_endpoint(ambient: None, hostile: Any) -> None:
    """Even on an allowed endpoint, the environment's keys and tokens are not the manifest's."""
    url, seen = hostile
    model = runwire.loads(
        _manifest(endpoint_url=url), allowed_objects="all", allowed_endpoints=["http://127.0.0.1"]
    )
    assert model.aws_access_key_id is None
    assert model.aws_session_token is None
    with pytest.raises(ProviderSetupError, match="untrusted manifest"):
        _converse(model)
    assert seen == []


def test_secrets_from_env_still_gives_no_ambient_session_token(ambient: None, hostile: Any) -> None:
    """Named secrets come from the environment when asked; unnamed ones never do."""
    url, seen = hostile
    text = _manifest(
        endpoint_url=url,
        aws_access_key_id=_secret("MY_KEY_ID"),
        aws_secret_access_key=_secret("MY_SECRET"),
    )
    model = runwire.loads(
        text,
        allowed_objects="all",
        allowed_endpoints=["http://127.0.0.1"],
        secrets_map={"MY_KEY_ID": "AKIDGIVEN", "MY_SECRET": "given-secret"},
        secrets_from_env=True,
    )
    assert model.aws_session_token is None
    with pytest.raises(runwire.errors.ProviderError):
        _converse(model)
    assert len(seen) == 1
    assert "Credential=AKIDGIVEN/" in seen[0]["Authorization"]
    assert "X-Amz-Security-Token" not in seen[0]
    _no_ambient_value_in(seen)


@pytest.mark.parametrize("trusted", [False, True])
def test_another_services_secret_is_never_put_in_an_aws_field(ambient: None, trusted: bool) -> None:
    text = _manifest(
        aws_access_key_id=_secret("OPENAI_API_KEY"),
        aws_secret_access_key=_secret("AWS_SECRET_ACCESS_KEY"),
    )
    with pytest.raises(SecretPlacementError) as caught:
        runwire.loads(text, allowed_objects="all", secrets_from_env=True, trusted=trusted)
    assert caught.value.path == "$.kwargs.aws_access_key_id"
    assert "openai" in str(caught.value)
    assert AMBIENT["OPENAI_API_KEY"] not in str(caught.value)


def test_an_untrusted_manifest_cannot_name_a_profile(ambient: None) -> None:
    with pytest.raises(FieldValidationError, match="profile") as caught:
        runwire.loads(_manifest(credentials_profile_name="prod"), allowed_objects="all")
    assert caught.value.path == "$.kwargs.credentials_profile_name"


@pytest.mark.parametrize(
    "config",
    [
        {"proxies": {"https": "http://127.0.0.1:9"}},
        {"client_cert": "/etc/ssl/private/key.pem"},
        {"proxies_config": {"proxy_ca_bundle": "/etc/passwd"}},
    ],
)
def test_an_untrusted_manifest_cannot_route_through_proxies(
    ambient: None, config: dict[str, Any]
) -> None:
    with pytest.raises(FieldValidationError, match="may not come from an untrusted"):
        runwire.loads(_manifest(config=config), allowed_objects="all")


def test_harmless_config_options_are_kept(ambient: None) -> None:
    model = runwire.loads(
        _manifest(config={"retries": {"max_attempts": 2}, "read_timeout": 5}),
        allowed_objects="all",
    )
    assert model.config == {"retries": {"max_attempts": 2}, "read_timeout": 5}


# -- what still works --------------------------------------------------------------------
def test_an_allowed_emulator_with_given_keys_works(emu: Any, ambient: None) -> None:
    text = _manifest(
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=_secret("EMU_KEY"),
        aws_secret_access_key=_secret("EMU_SECRET"),
    )
    model = runwire.loads(
        text,
        allowed_objects="all",
        allowed_endpoints=[emu.endpoint_url],
        secrets_map={"EMU_KEY": EMULATOR_KEY_ID, "EMU_SECRET": EMULATOR_SECRET},
    )
    emu.script("hello")
    assert model.invoke("hi").content == "hello"
    assert emu.requests[-1].access_key_id == EMULATOR_KEY_ID


def test_trusted_loads_keep_ambient_credentials(emu: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
    text = _manifest(endpoint_url=emu.endpoint_url, region_name="us-east-1")
    model = runwire.loads(text, allowed_objects="all", trusted=True)
    emu.script("from the environment")
    assert model.invoke("hi").content == "from the environment"


def test_python_code_is_trusted(monkeypatch: Any) -> None:
    from runwire.providers.aws import ChatBedrockConverse

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPYTHON")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "python-secret")
    model = ChatBedrockConverse(model=MODEL, endpoint_url="http://127.0.0.1:1")
    assert model.aws_access_key_id is not None
    with trust_scope(UNTRUSTED):
        assert ChatBedrockConverse(model=MODEL).aws_access_key_id is None


# -- the rules as tables -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "service", "expected"),
    [
        ("https://bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime", True),
        ("https://bedrock-runtime-fips.us-west-2.amazonaws.com", "bedrock-runtime", True),
        ("https://bedrock-runtime.cn-north-1.amazonaws.com.cn", "bedrock-runtime", True),
        ("https://bedrock-runtime.us-east-1.api.aws", "bedrock-runtime", True),
        (
            "https://vpce-0a1b2c3d-e4f5.bedrock-runtime.us-east-1.vpce.amazonaws.com",
            "bedrock-runtime",
            True,
        ),
        ("https://runtime.sagemaker.eu-west-1.amazonaws.com", "sagemaker-runtime", True),
        ("http://bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime", False),
        ("https://bedrock-runtime.us-east-1.amazonaws.com:8443", "bedrock-runtime", False),
        ("https://abc123.execute-api.us-east-1.amazonaws.com", "bedrock-runtime", False),
        ("https://mybucket.s3.amazonaws.com", "bedrock-runtime", False),
        ("https://bedrock-runtime.us-east-1.amazonaws.com.evil.example", "bedrock-runtime", False),
        ("https://evil.example/bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime", False),
        ("https://user@bedrock-runtime.us-east-1.amazonaws.com", "bedrock-runtime", False),
        ("https://kendra.us-east-1.amazonaws.com", "bedrock-runtime", False),
    ],
)
def test_aws_endpoints(url: str, service: str, expected: bool) -> None:
    assert is_aws_endpoint(url, service) is expected


@pytest.mark.parametrize(
    ("url", "rule", "expected"),
    [
        ("http://127.0.0.1:4566", "http://127.0.0.1", True),
        ("http://127.0.0.1:4566", "http://127.0.0.1:4566", True),
        ("http://127.0.0.1:4567", "http://127.0.0.1:4566", False),
        ("https://127.0.0.1:4566", "http://127.0.0.1", False),
        ("https://llm.corp.example", "https://*.corp.example", True),
        ("https://corp.example", "https://*.corp.example", False),
        ("https://evilcorp.example", "https://*.corp.example", False),
        ("http://127.0.0.1.evil.example", "http://127.0.0.1", False),
        ("http://user:pw@127.0.0.1", "http://127.0.0.1", False),
    ],
)
def test_allowlist_entries(url: str, rule: str, expected: bool) -> None:
    assert endpoint_matches(url, rule) is expected


@pytest.mark.parametrize("rule", ["127.0.0.1", "ftp://host", "https://host/path", "https://"])
def test_malformed_allowlist_entries_are_refused(rule: str) -> None:
    with pytest.raises(ValueError, match="allowed endpoint"):
        make_trust(False, [rule])


@pytest.mark.parametrize(
    ("name", "service", "conflict"),
    [
        ("OPENAI_API_KEY", "aws", "openai"),
        ("AWS_SECRET_ACCESS_KEY", "aws", None),
        ("AWS_SECRET_ACCESS_KEY", "openai", "aws"),
        ("MY_AWS_SECRET", "aws", None),
        ("PROD_KEY", "openai", None),
        ("AZURE_OPENAI_API_KEY", "openai", "azure"),
        ("OCI_PRIVATE_KEY", "aws", "oci"),
    ],
)
def test_secrets_belong_to_the_service_their_name_says(
    name: str, service: str, conflict: str | None
) -> None:
    assert secret_conflict(name, service) == conflict


# -- objects built from others at run time stay as trusted as their origin ---------------
def test_a_reconfigured_model_is_no_more_trusted_than_the_loaded_one(
    ambient: None, hostile: Any
) -> None:
    from runwire.runtime import ConfigurableField

    url, seen = hostile
    with trust_scope(make_trust(False, ["http://127.0.0.1"])):
        model = runwire.providers.aws.ChatBedrockConverse(model=MODEL, endpoint_url=url)
    chain = model.configurable_fields(temperature=ConfigurableField(id="temperature"))
    with pytest.raises(ProviderSetupError, match="untrusted manifest"):
        chain.invoke("hi", {"configurable": {"temperature": 0.5}})
    assert seen == []


def test_chat_bedrock_hands_its_trust_to_its_converse_delegate(ambient: None) -> None:
    from runwire.providers.aws import ChatBedrock

    with trust_scope(UNTRUSTED):
        model = ChatBedrock(
            model_id=MODEL,
            beta_use_converse_api=True,
            aws_access_key_id="AKIDGIVEN",
            aws_secret_access_key="given-secret",
        )
    delegate = model._as_converse()
    assert delegate.aws_session_token is None
    assert delegate._trust.trust.trusted is False


# -- runwire.yaml: pipelines others wrote ------------------------------------------------
def _deployment(folder: Any, pipeline: str) -> Any:
    from runwire.deploy.deployment import read_deployment

    (folder / "pyproject.toml").write_text("")
    (folder / "chat.yaml").write_text(
        f"_type: ChatBedrockConverse\nmodel: {MODEL}\nregion_name: us-east-1\n"
        "endpoint_url: http://127.0.0.1:9\n",
        encoding="utf-8",
    )
    (folder / "runwire.yaml").write_text(f"pipelines:\n  chat: {pipeline}\n", encoding="utf-8")
    return read_deployment(folder / "runwire.yaml")


def test_an_untrusted_pipeline_may_only_call_allowed_endpoints(
    ambient: None, tmp_path: Any
) -> None:
    from runwire.deploy.pipelines import DeploymentError, build_pipeline

    refused = _deployment(tmp_path, "{path: chat.yaml, trusted: false}")
    with pytest.raises(DeploymentError, match="allowed_endpoints") as caught:
        build_pipeline(refused, "chat", {})
    assert caught.value.line == 4
    allowed = _deployment(
        tmp_path, "{path: chat.yaml, trusted: false, allowed_endpoints: ['http://127.0.0.1']}"
    )
    model = build_pipeline(allowed, "chat", {}).runnable
    assert model.aws_access_key_id is None


def test_deployment_pipelines_are_trusted_by_default(ambient: None, tmp_path: Any) -> None:
    from runwire.deploy.pipelines import build_pipeline

    model = build_pipeline(_deployment(tmp_path, "chat.yaml"), "chat", {}).runnable
    assert model.aws_access_key_id is not None
