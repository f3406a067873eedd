"""Building a deployment's pipelines: secrets from the secrets map, load errors named by
pipeline, allowed_objects, and the configurable allowlist (never a credential or endpoint)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import SecretStr

from runwire.deploy.deployment import (
    Deployment,
    DeploymentError,
    deployment_for_files,
    read_deployment,
)
from runwire.deploy.pipelines import (
    DENIED_CONFIGURABLE_FIELDS,
    Pipeline,
    build_pipeline,
    build_pipelines,
    denied_field,
)
from runwire.errors import MissingSecretError, NotAllowedError, SecretPlacementError
from runwire.loader.registry import register
from runwire.runtime.base import Runnable
from runwire.runtime.models.fakes import FakeChatModel
from runwire.schema.ids import IdTable

ROOT = Path(__file__).resolve().parent.parent
SECRET_VALUE = "wJalrXUtnFEMI-DEPLOY-TEST-do-not-leak"
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"

BEDROCK = f"""\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{{question}}"]]
  - _type: ChatBedrockConverse
    model: {MODEL_ID}
    region_name: us-east-1
    aws_access_key_id: !secret DEPLOY_TEST_KEY_ID
    aws_secret_access_key: !secret DEPLOY_TEST_SECRET
  - _type: StrOutputParser
"""


def configurable_bedrock(field: str, cid: str) -> str:
    """A Bedrock model whose ``temperature`` and ``field`` are configurable."""
    return (
        "_type: configurable\nfields:\n  temperature: {id: temperature}\n"
        f"  {field}: {{id: {cid}}}\n"
        f"default:\n  _type: ChatBedrockConverse\n  model: {MODEL_ID}\n  region_name: us-east-1\n"
    )


class DeployKeyedModel(FakeChatModel):
    """A fake model whose credential is required (secret id ``API_KEY``)."""

    api_key: SecretStr

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "deploy_tests"]


@pytest.fixture
def keyed_model(id_table_snapshot: IdTable) -> Iterator[None]:
    register(DeployKeyedModel)
    yield


class RecordingSecrets(Mapping[str, str]):
    """A secrets map that records which names the loader looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[str] = []

    def __getitem__(self, key: str) -> str:
        self.asked.append(key)
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def deploy(folder: Path, text: str, env: str | None = None) -> Deployment:
    write(folder, "runwire.yaml", text)
    return read_deployment("runwire.yaml", env=env)


def build_error(deployment: Deployment, name: str, secrets: Mapping[str, str]) -> DeploymentError:
    with pytest.raises(DeploymentError) as caught:
        build_pipeline(deployment, name, secrets)
    return caught.value


# -- building ------------------------------------------------------------------------------
def test_build_pipelines_builds_every_pipeline(project: Path) -> None:
    deployment = deploy(
        project,
        "pipelines:\n  chat: configs/chat.yaml\n"
        "  switch: {path: configs/alternatives.yaml, configurable: [model]}\n",
    )
    pipelines = build_pipelines(deployment, {}, env={"CHAT_ANSWER": "Rome."})
    assert sorted(pipelines) == ["chat", "switch"]
    chat = pipelines["chat"]
    assert isinstance(chat, Pipeline) and isinstance(chat.runnable, Runnable)
    assert (chat.name, chat.configurable, chat.source) == (
        "chat",
        frozenset(),
        project / "configs" / "chat.yaml",
    )
    assert chat.runnable.invoke({"role": "r", "question": "q"}) == "Rome."  # env= is used
    assert pipelines["switch"].configurable == frozenset({"model"})


def test_manifest_overlays_apply(project: Path) -> None:
    deployment = deploy(
        project,
        "pipelines:\n  chat: {path: configs/chat.yaml, overlays: [configs/overlays/terse.yaml]}\n",
    )
    chat = build_pipelines(deployment, {}, env={})["chat"]
    assert chat.runnable.invoke({"role": "r", "question": "q"}) == "Paris."


def test_manifests_served_directly_build(project: Path) -> None:
    pipelines = build_pipelines(deployment_for_files(["configs/chat.yaml"]), {}, env={})
    assert pipelines["chat"].runnable.invoke({"role": "r", "question": "q"}) == (
        "Paris is the capital of France."
    )


def test_a_secret_comes_from_the_secrets_map_into_its_field_only(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TEST_SECRET", "from-the-environment-not-used")
    write(project, "configs/bedrock.yaml", BEDROCK)
    deployment = deploy(project, "pipelines: {bedrock: configs/bedrock.yaml}\n")
    secrets = RecordingSecrets(
        {"DEPLOY_TEST_KEY_ID": "AKIDDEPLOYTEST", "DEPLOY_TEST_SECRET": SECRET_VALUE, "X": "y"}
    )
    pipeline = build_pipelines(deployment, secrets)["bedrock"]
    model = pipeline.runnable.middle[0]
    assert model.aws_secret_access_key.get_secret_value() == SECRET_VALUE
    assert model.aws_access_key_id.get_secret_value() == "AKIDDEPLOYTEST"
    assert sorted(secrets.asked) == ["DEPLOY_TEST_KEY_ID", "DEPLOY_TEST_SECRET"]
    assert SECRET_VALUE not in repr(pipeline)
    assert SECRET_VALUE not in str(pipeline)


def test_a_missing_secret_names_the_secret_the_pipeline_and_the_field(project: Path) -> None:
    write(project, "configs/bedrock.yaml", BEDROCK)
    deployment = deploy(project, "pipelines: {bedrock: configs/bedrock.yaml}\n")
    error = build_error(deployment, "bedrock", {"DEPLOY_TEST_KEY_ID": SECRET_VALUE})
    assert str(error) == (
        "configs/bedrock.yaml:9:5: $.steps[1].aws_secret_access_key: pipeline bedrock: secret "
        "DEPLOY_TEST_SECRET for field 'aws_secret_access_key' of ChatBedrockConverse is not "
        "set\n  hint: provide it through one of the configured secret sources (env, .env, the "
        "secrets dir, AWS Secrets Manager / SSM); `runwire config show` lists them"
    )
    assert error.pipeline == "bedrock"
    assert SECRET_VALUE not in str(error) and SECRET_VALUE not in repr(error.to_dict())


def test_a_missing_required_secret_keeps_the_loaders_error_as_cause(
    project: Path, keyed_model: None
) -> None:
    write(
        project,
        "configs/keyed.yaml",
        "_type: DeployKeyedModel\nresponses: [hi]\napi_key: !secret DEPLOY_API_KEY\n",
    )
    deployment = deploy(project, "pipelines: {keyed: configs/keyed.yaml}\n")
    error = build_error(deployment, "keyed", {})
    assert isinstance(error.__cause__, MissingSecretError)
    assert str(error).startswith(
        "configs/keyed.yaml:3:1: $.api_key: pipeline keyed: secret DEPLOY_API_KEY for field "
        "'api_key' of DeployKeyedModel is not set\n  hint: provide it through"
    )
    built = build_pipeline(deployment, "keyed", {"DEPLOY_API_KEY": SECRET_VALUE})
    assert built.runnable.api_key.get_secret_value() == SECRET_VALUE
    assert built.runnable.invoke("x").content == "hi"


def test_a_secret_outside_a_secret_field_is_never_read(project: Path) -> None:
    write(
        project,
        "configs/leak.yaml",
        "_type: PromptTemplate\ntemplate: !secret DEPLOY_TEST_SECRET\n",
    )
    deployment = deploy(project, "pipelines: {leak: configs/leak.yaml}\n")
    secrets = RecordingSecrets({"DEPLOY_TEST_SECRET": SECRET_VALUE})
    error = build_error(deployment, "leak", secrets)
    assert isinstance(error.__cause__, SecretPlacementError)
    assert str(error).startswith("configs/leak.yaml:2:1: $.template: pipeline leak: ")
    assert secrets.asked == []
    assert SECRET_VALUE not in str(error)


def test_load_errors_keep_the_manifests_place_and_name_the_pipeline(project: Path) -> None:
    write(project, "configs/bad.yaml", "_type: FakeChatModel\nresponses: [a]\nrespnses: [b]\n")
    deployment = deploy(project, "pipelines: {bad: configs/bad.yaml}\n")
    assert str(build_error(deployment, "bad", {})) == (
        "configs/bad.yaml:3:1: $.respnses: pipeline bad: FakeChatModel has no field "
        "'respnses'\n  hint: did you mean responses?"
    )


def test_allowed_objects_narrow_what_a_pipeline_may_build(project: Path) -> None:
    text = (
        "allowed_objects: messages\npipelines:\n  chat: configs/chat.yaml\n"
        "  open: {path: configs/chat.yaml, allowed_objects: core}\n"
        "  listed:\n    path: configs/chat.yaml\n"
        "    allowed_objects: [RunnableSequence, ChatPromptTemplate, FakeChatModel, "
        "StrOutputParser]\n"
    )
    deployment = deploy(project, text)
    error = build_error(deployment, "chat", {})
    assert isinstance(error.__cause__, NotAllowedError)
    assert str(error) == (
        "configs/chat.yaml:4:1: $.id: pipeline chat: RunnableSequence (core) is not in "
        "allowed_objects\n  hint: widen the pipeline's allowed_objects in the deployment file"
    )
    assert build_pipeline(deployment, "open", {}).name == "open"
    assert build_pipeline(deployment, "listed", {}).name == "listed"
    deployment.pipelines["listed"].allowed_objects = ["RunnableSequence", "NoSuchClass"]
    assert "unknown class 'NoSuchClass' in allowed_objects" in str(
        build_error(deployment, "listed", {})
    )


def test_a_manifest_that_is_not_a_runnable_is_refused(project: Path) -> None:
    write(project, "configs/message.yaml", "_type: HumanMessage\ncontent: hello\n")
    deployment = deploy(project, "pipelines: {message: configs/message.yaml}\n")
    assert str(build_error(deployment, "message", {})) == (
        "configs/message.yaml: $: pipeline message: configs/message.yaml builds a "
        "HumanMessage, not a runnable\n"
        "  hint: a served manifest is a pipeline: a sequence, a prompt, a model, ..."
    )


# -- the configurable allowlist --------------------------------------------------------------
def test_an_undeclared_configurable_id_is_an_error_at_its_line(project: Path) -> None:
    text = (
        "pipelines:\n  switch:\n    path: configs/alternatives.yaml\n"
        "    configurable: [model, replys]\n"
    )
    error = build_error(deploy(project, text), "switch", {})
    assert str(error) == (
        "runwire.yaml:4:27: $.pipelines.switch.configurable[1]: pipeline switch: configurable "
        "'replys' is not declared by the pipeline\n"
        "  hint: did you mean replies? it declares: model, replies"
    )
    error = build_error(
        deploy(project, "pipelines:\n  c: {path: configs/chat.yaml, configurable: [x]}\n"), "c", {}
    )
    assert error.hint == "it declares none"


def test_an_overlay_configurable_error_points_at_the_overlay(project: Path) -> None:
    text = (
        "pipelines:\n  switch: {path: configs/alternatives.yaml, configurable: [model]}\n"
        "environments:\n  prod:\n    pipelines:\n      switch: {configurable: [temperature]}\n"
    )
    build_pipeline(deploy(project, text), "switch", {})
    error = build_error(deploy(project, text, env="prod"), "switch", {})
    assert str(error).startswith(
        "runwire.yaml:6:31: $.environments.prod.pipelines.switch.configurable[0]: pipeline "
        "switch: configurable 'temperature' is not declared"
    )


@pytest.mark.parametrize(
    ("field", "cid", "reason"),
    [
        ("aws_secret_access_key", "key", "the secret field 'aws_secret_access_key'"),
        ("aws_session_token", "token", "the secret field 'aws_session_token'"),
        ("region_name", "region", "the connection field 'region_name'"),
        ("endpoint_url", "endpoint", "the connection field 'endpoint_url'"),
        ("credentials_profile_name", "profile", "the connection field 'credentials_profile_name'"),
        ("config", "botocore", "the connection field 'config'"),
        ("bedrock_client", "bc", "the connection field 'bedrock_client'"),
    ],
)
def test_clients_may_never_set_credentials_or_connection_fields(
    project: Path, field: str, cid: str, reason: str
) -> None:
    write(project, "configs/model.yaml", configurable_bedrock(field, cid))
    text = f"pipelines:\n  m: {{path: configs/model.yaml, configurable: [temperature, {cid}]}}\n"
    error = build_error(deploy(project, text), "m", {})
    assert str(error).startswith(
        f"runwire.yaml:2:61: $.pipelines.m.configurable[1]: pipeline m: clients may not set "
        f"configurable {cid!r}: it sets {reason} of ChatBedrockConverse"
    )
    allowed = "pipelines:\n  m: {path: configs/model.yaml, configurable: [temperature]}\n"
    pipeline = build_pipeline(deploy(project, allowed), "m", {})
    assert pipeline.configurable == frozenset({"temperature"})


def test_the_allowlist_follows_prefixed_alternatives(project: Path) -> None:
    manifest = f"""\
_type: alternatives
which: {{id: model}}
prefix_keys: true
default_key: fake
default: {{_type: FakeChatModel, responses: [hi]}}
alternatives:
  bedrock:
    _type: configurable
    fields: {{region_name: {{id: region}}, temperature: {{id: temperature}}}}
    default: {{_type: ChatBedrockConverse, model: {MODEL_ID}, region_name: us-east-1}}
"""
    write(project, "configs/alts.yaml", manifest)
    ok = (
        "pipelines:\n  a:\n    path: configs/alts.yaml\n"
        "    configurable: [model, model==bedrock/temperature]\n"
    )
    assert build_pipeline(deploy(project, ok), "a", {}).configurable == frozenset(
        {"model", "model==bedrock/temperature"}
    )
    bad = "pipelines:\n  a: {path: configs/alts.yaml, configurable: [model==bedrock/region]}\n"
    assert "it sets the connection field 'region_name' of ChatBedrockConverse" in str(
        build_error(deploy(project, bad), "a", {})
    )


@pytest.mark.parametrize(
    ("name", "alias", "denied"),
    [
        ("endpoint_url", None, True),
        ("endpoint", "base_url", True),
        ("openai_api_key", None, True),
        ("api_keys", None, True),
        ("aws_access_key_id", None, True),
        ("http_client", None, True),
        ("region_name", None, True),
        ("service_url", None, True),
        ("temperature", None, False),
        ("responses", None, False),
        ("model_id", "model", False),
        ("max_tokens", None, False),
    ],
)
def test_the_deny_list(name: str, alias: str | None, denied: bool) -> None:
    assert denied_field(name, alias) is denied
    assert all(
        how in ("equals", "prefix", "suffix", "contains") for how, _ in DENIED_CONFIGURABLE_FIELDS
    )
