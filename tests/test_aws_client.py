"""The shared AWS client plumbing (``runwire.providers.aws.client``): credential and region
resolution, endpoint and config, lazy cached clients, error mapping, import cost.

Which credentials signed a request is read from the Bedrock emulator's record of it; the
emulator also checks the signature, so a request that succeeds proves the secret too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from pydantic import SecretStr

from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.aws.client import AwsClientFields, build_client
from runwire.providers.aws.embeddings import BedrockEmbeddings
from runwire.providers.aws.rerank import BedrockRerank

# key pairs the emulator knows: one per place credentials can come from
PAIRS = {
    "env": ("AKIAENVIRONMENT00001", "env-secret-0123456789abcdefghij"),
    "explicit": ("AKIAEXPLICIT00000002", "explicit-secret-0123456789abcdef"),
    "profile": ("AKIAPROFILE000000003", "profile-secret-0123456789abcdefg"),
    "default": ("AKIADEFAULTPROFILE04", "default-secret-0123456789abcdefg"),
    "injected": ("AKIAINJECTED00000005", "injected-secret-0123456789abcdef"),
}
SECRETS = [secret for _, secret in PAIRS.values()]
NO_RETRY = Config(retries={"total_max_attempts": 1})
"""One attempt, no retry (botocore's ``max_attempts`` counts retries: 1 means two tries)."""


@pytest.fixture
def emulator() -> Iterator[Any]:
    from runwire.testing.bedrock import BedrockEmulator

    with BedrockEmulator(credentials=dict(PAIRS.values())) as emu:
        yield emu


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Shared credentials and config files with a ``default`` and a ``team`` profile."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {PAIRS['default'][0]}\n"
        f"aws_secret_access_key = {PAIRS['default'][1]}\n"
        "[team]\n"
        f"aws_access_key_id = {PAIRS['profile'][0]}\n"
        f"aws_secret_access_key = {PAIRS['profile'][1]}\n"
    )
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-south-1\n[profile team]\nregion = eu-west-3\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    return tmp_path


def set_env_keys(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    if on:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", PAIRS["env"][0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", PAIRS["env"][1])


def explicit_keys() -> dict[str, SecretStr]:
    key, secret = PAIRS["explicit"]
    return {"aws_access_key_id": SecretStr(key), "aws_secret_access_key": SecretStr(secret)}


def signer_of(model: AwsClientFields, emu: Any) -> str:
    """Call the emulator through ``model``; the access key id that signed the request."""
    assert isinstance(model, BedrockEmbeddings)
    before = len(emu.requests)
    vector = model.embed_query("which credentials?")
    assert len(vector) == 1536
    (request,) = emu.requests[before:]
    return request.access_key_id


def embeddings(emu: Any, **kwargs: Any) -> BedrockEmbeddings:
    return BedrockEmbeddings(endpoint_url=emu.endpoint_url, region_name="us-east-1", **kwargs)


# -- credentials: the resolution order -----------------------------------------------------
def test_an_injected_client_wins(emulator: Any, aws_files: Path, monkeypatch: Any) -> None:
    set_env_keys(monkeypatch, True)
    key, secret = PAIRS["injected"]
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    model = embeddings(emulator, client=client, credentials_profile_name="team", **explicit_keys())
    assert model.aws_client() is client
    assert signer_of(model, emulator) == key
    assert model._aws_clients.clients == {}  # nothing was built
    # the injected client serves its own service only
    other = model.aws_client("bedrock-agent-runtime")
    assert other is not client and other.meta.service_model.service_name == "bedrock-agent-runtime"


@pytest.mark.parametrize("env_keys", [False, True], ids=["env-unset", "env-set"])
def test_a_profile_beats_explicit_and_env_keys(
    emulator: Any, aws_files: Path, monkeypatch: Any, env_keys: bool
) -> None:
    set_env_keys(monkeypatch, env_keys)
    model = embeddings(emulator, credentials_profile_name="team", **explicit_keys())
    assert signer_of(model, emulator) == PAIRS["profile"][0]


@pytest.mark.parametrize("env_keys", [False, True], ids=["env-unset", "env-set"])
def test_explicit_keys_beat_env_keys_and_the_default_profile(
    emulator: Any, aws_files: Path, monkeypatch: Any, env_keys: bool
) -> None:
    set_env_keys(monkeypatch, env_keys)
    assert signer_of(embeddings(emulator, **explicit_keys()), emulator) == PAIRS["explicit"][0]


def test_env_keys_are_used_when_nothing_is_explicit(
    emulator: Any, aws_files: Path, monkeypatch: Any
) -> None:
    set_env_keys(monkeypatch, True)
    model = embeddings(emulator)
    assert model.aws_access_key_id == SecretStr(PAIRS["env"][0])  # the field's env default
    assert signer_of(model, emulator) == PAIRS["env"][0]


def test_env_keys_are_read_when_the_model_is_built(emulator: Any, monkeypatch: Any) -> None:
    set_env_keys(monkeypatch, True)
    model = embeddings(emulator)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert signer_of(model, emulator) == PAIRS["env"][0]


def test_a_session_token_travels_with_its_keys(emulator: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-value")
    model = embeddings(emulator, **explicit_keys())
    assert signer_of(model, emulator) == PAIRS["explicit"][0]
    assert emulator.requests[-1].headers["x-amz-security-token"] == "session-token-value"


def test_without_keys_boto3s_default_chain_is_used(emulator: Any, aws_files: Path) -> None:
    model = embeddings(emulator)
    assert model.aws_access_key_id is None
    assert signer_of(model, emulator) == PAIRS["default"][0]  # the files' default profile


def test_aws_profile_selects_the_default_chains_profile(
    emulator: Any, aws_files: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "team")
    assert signer_of(embeddings(emulator), emulator) == PAIRS["profile"][0]


def test_rerank_profile_defaults_to_aws_profile_and_beats_env_keys(
    emulator: Any, aws_files: Path, monkeypatch: Any
) -> None:
    set_env_keys(monkeypatch, True)
    monkeypatch.setenv("AWS_PROFILE", "team")
    model = BedrockRerank(
        model_arn="arn:aws:bedrock:us-east-1::foundation-model/amazon.rerank-v1:0",
        base_url=emulator.endpoint_url,
        region_name="us-east-1",
    )
    assert model.credentials_profile_name == "team"
    assert model.rerank(["a b", "c"], "a") and emulator.requests[-1].operation == "Rerank"
    assert emulator.requests[-1].access_key_id == PAIRS["profile"][0]


def test_no_credentials_anywhere_is_a_provider_error_at_call_time(emulator: Any) -> None:
    model = embeddings(emulator)  # building the model and its client needs no credentials
    model.aws_client()
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    assert info.value.code == "NoCredentialsError"
    assert emulator.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"aws_access_key_id": SecretStr("AKIALONELYKEY0000001")},
        {"aws_secret_access_key": SecretStr("lonely-secret-value")},
        {"aws_session_token": SecretStr("lonely-token-value")},
    ],
    ids=["key-without-secret", "secret-without-key", "token-without-keys"],
)
def test_incomplete_keys_are_a_setup_error(kwargs: dict[str, SecretStr]) -> None:
    model = BedrockEmbeddings(region_name="us-east-1", **kwargs)
    with pytest.raises(ProviderSetupError, match="BedrockEmbeddings") as info:
        model.aws_client()
    text = str(info.value)
    assert not any(v.get_secret_value() in text for v in kwargs.values())
    with pytest.raises(ProviderSetupError):
        build_client("bedrock-runtime", region_name="us-east-1", **kwargs)


def test_a_key_from_the_env_without_its_secret_is_a_setup_error(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHALFPAIR00000001")
    with pytest.raises(ProviderSetupError, match="AWS_SECRET_ACCESS_KEY"):
        BedrockEmbeddings(region_name="us-east-1").aws_client()


def test_an_unknown_profile_is_a_setup_error(aws_files: Path) -> None:
    model = BedrockEmbeddings(region_name="us-east-1", credentials_profile_name="nobody")
    with pytest.raises(ProviderSetupError, match="nobody"):
        model.aws_client()


# -- region, endpoint, config ----------------------------------------------------------------
REGION_CASES = [
    # field, AWS_REGION, AWS_DEFAULT_REGION, profile -> region
    ("us-west-2", "eu-west-1", "eu-central-1", "team", "us-west-2"),
    (None, "eu-west-1", "eu-central-1", "team", "eu-west-1"),
    (None, None, "eu-central-1", "team", "eu-central-1"),
    (None, None, None, "team", "eu-west-3"),
    (None, None, None, None, "ap-south-1"),  # the default profile's
]


@pytest.mark.parametrize(("field", "region", "default", "profile", "expected"), REGION_CASES)
def test_region_resolution_order(
    aws_files: Path,
    monkeypatch: Any,
    field: str | None,
    region: str | None,
    default: str | None,
    profile: str | None,
    expected: str,
) -> None:
    if region:
        monkeypatch.setenv("AWS_REGION", region)
    if default:
        monkeypatch.setenv("AWS_DEFAULT_REGION", default)
    model = BedrockEmbeddings(region_name=field, credentials_profile_name=profile)
    assert model.aws_client().meta.region_name == expected


def test_no_region_anywhere_is_a_setup_error() -> None:
    with pytest.raises(ProviderSetupError, match="region"):
        BedrockEmbeddings(**explicit_keys()).aws_client()


def test_endpoint_url_is_honoured() -> None:
    model = BedrockEmbeddings(region_name="us-east-1", endpoint_url="http://127.0.0.1:8123")
    assert model.aws_client().meta.endpoint_url == "http://127.0.0.1:8123"
    rerank = BedrockRerank(model_arn="arn:x", region_name="eu-west-1")
    assert rerank.aws_client().meta.endpoint_url == (
        "https://bedrock-agent-runtime.eu-west-1.amazonaws.com"
    )


@pytest.mark.parametrize(
    "config",
    [
        Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=7),
        {"retries": {"max_attempts": 2, "mode": "standard"}, "read_timeout": 7},
    ],
    ids=["Config", "dict"],
)
def test_config_is_merged_with_runwires_pool(config: Any) -> None:
    client = BedrockEmbeddings(region_name="us-east-1", config=config).aws_client()
    merged = client.meta.config
    assert merged.retries == {"total_max_attempts": 3, "mode": "standard"}  # 2 retries
    assert merged.read_timeout == 7
    assert merged.max_pool_connections == 64  # runwire's pool size
    assert "runwire" in merged.user_agent_extra


def test_the_pool_size_follows_runwire_aws_max_workers(monkeypatch: Any) -> None:
    monkeypatch.setenv("RUNWIRE_AWS_MAX_WORKERS", "5")
    client = BedrockEmbeddings(region_name="us-east-1").aws_client()
    assert client.meta.config.max_pool_connections == 5
    user = BedrockEmbeddings(region_name="us-east-1", config={"max_pool_connections": 9})
    assert user.aws_client().meta.config.max_pool_connections == 9  # the user's option wins


@pytest.mark.parametrize("config", [{"no_such_option": 1}, "retries=3"], ids=["dict", "str"])
def test_an_invalid_config_is_a_setup_error(config: Any) -> None:
    with pytest.raises(ProviderSetupError, match="config"):
        BedrockEmbeddings(region_name="us-east-1", config=config).aws_client()


def test_config_retries_are_honoured(emulator: Any) -> None:
    emulator.fail(status=429, code="ThrottlingException", message="Rate exceeded", times=2)
    model = embeddings(emulator, config={"retries": {"total_max_attempts": 1}}, **explicit_keys())
    for _ in range(2):  # one attempt per call: each call meets one failure
        with pytest.raises(ProviderError) as info:
            model.embed_query("x")
        assert (info.value.code, info.value.status) == ("ThrottlingException", 429)
        assert info.value.retryable
    assert len(model.embed_query("x")) == 1536


# -- lazy, cached clients ------------------------------------------------------------------
def test_clients_are_built_lazily_and_cached_per_instance() -> None:
    model = BedrockEmbeddings(region_name="us-east-1", **explicit_keys())
    assert model._aws_clients.clients == {}  # constructing the model built nothing
    first = model.aws_client()
    assert model.aws_client() is first
    assert list(model._aws_clients.clients.values()) == [first]
    other = BedrockEmbeddings(region_name="us-east-1", **explicit_keys())
    assert other.aws_client() is not first
    # a copy with another region shares the cache but not the client
    moved = model.model_copy(update={"region_name": "eu-west-1"})
    assert moved.aws_client() is not first
    assert moved.aws_client().meta.region_name == "eu-west-1"
    assert model.aws_client() is first


def test_models_with_clients_compare_and_copy_by_their_fields() -> None:
    import copy

    model = BedrockEmbeddings(region_name="us-east-1", **explicit_keys())
    twin = BedrockEmbeddings(region_name="us-east-1", **explicit_keys())
    assert model == twin
    assert copy.deepcopy(model) == model


# -- error mapping -----------------------------------------------------------------------
def test_a_wrong_secret_is_rejected_and_never_shown(emulator: Any) -> None:
    key, secret = PAIRS["explicit"]
    wrong = "wrong-secret-VALUE-must-not-leak-0123"
    model = embeddings(
        emulator,
        aws_access_key_id=SecretStr(key),
        aws_secret_access_key=SecretStr(wrong),
        config=NO_RETRY,
    )
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    error = info.value
    assert (error.provider, error.code, error.status) == (
        "bedrock-runtime",
        "InvalidSignatureException",
        403,
    )
    assert error.request_id
    assert error.request_id in str(error)
    shown = str(error) + repr(error) + json.dumps(error.to_dict()) + repr(model) + str(model)
    assert wrong not in shown and secret not in shown
    assert not any(s in shown for s in SECRETS)


def test_an_unknown_key_is_rejected(emulator: Any) -> None:
    model = embeddings(
        emulator,
        aws_access_key_id=SecretStr("AKIANOBODYKNOWSME001"),
        aws_secret_access_key=SecretStr("whatever-secret-value-123"),
        config=NO_RETRY,
    )
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    assert (info.value.code, info.value.status) == ("UnrecognizedClientException", 403)
    assert "whatever-secret-value-123" not in str(info.value)


def test_an_unreachable_endpoint_is_a_provider_error() -> None:
    model = BedrockEmbeddings(
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        config={"retries": {"total_max_attempts": 1}, "connect_timeout": 1},
        **explicit_keys(),
    )
    with pytest.raises(ProviderError) as info:
        model.embed_query("x")
    assert info.value.code == "EndpointConnectionError"
    assert info.value.retryable


# -- import cost -----------------------------------------------------------------------------
def test_importing_runwire_and_the_aws_providers_does_not_import_boto3(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "import runwire, runwire.providers.aws\n"
        "from runwire.providers.aws import BedrockEmbeddings, BedrockRerank\n"
        "BedrockEmbeddings(region_name='us-east-1')\n"
        "BedrockRerank(model_arn='arn:x')\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('boto3', 'botocore'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
