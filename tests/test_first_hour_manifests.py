"""Issue 17, what a new user trips over in manifests: ``${VAR}`` for plain settings and
hints that lead somewhere, misspelt secrets, the author's secret names in dumps,
``load_file`` doing what the CLI does, and errors that name the variable behind a value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET, FAKE_SECRET
from runwire.cli.main import main
from runwire.errors import FieldValidationError, MissingSecretError
from runwire.loader.files import load_file
from runwire.loader.interpolate import ALLOW_VARIABLE, InterpolationRefusedError
from runwire.loader.validate import validate_manifest
from runwire.testing.pytest_plugin import canonical_text

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (includes stay inside it) as the working directory."""
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- item 2: ${VAR} for plain settings, and hints that lead to a working file -------------

BEDROCK = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{{question}}"]]
  - _type: ChatBedrockConverse
    model: "${{BEDROCK_MODEL:-anthropic.claude-3-haiku-20240307-v1:0}}"
    region_name: us-east-1
    max_tokens: "${{MAX_TOKENS:-256}}"
    temperature: "${{TEMPERATURE:-0.1}}"
{extra}  - _type: StrOutputParser
"""


def bedrock(extra: str = "") -> str:
    return BEDROCK.format(extra=extra)


@pytest.mark.parametrize("env", [{}, {"MAX_TOKENS": "512", "TEMPERATURE": "0.7"}])
def test_numbers_from_variables_validate_and_load(project: Path, env: dict[str, str]) -> None:
    path = write(project, "b.yaml", bedrock())
    assert validate_manifest(path, env=env) == []
    model = load_file(path, env=env).steps[1]
    assert model.max_tokens == int(env.get("MAX_TOKENS", 256))
    assert model.temperature == float(env.get("TEMPERATURE", 0.1))


def test_an_untrusted_file_reads_only_allowlisted_variables(project: Path) -> None:
    path = write(project, "b.yaml", bedrock())
    env = {"MAX_TOKENS": "512"}
    with pytest.raises(InterpolationRefusedError) as caught:
        load_file(path, env=env, trusted=False)
    error = caught.value
    assert "untrusted" in error.message and "BEDROCK_MODEL" in error.message
    assert (error.file, error.line) == (str(path), 6)
    # the hint, applied, loads: the deployer lists what untrusted files may read
    match = re.search(rf"{ALLOW_VARIABLE}=(\w+)", error.hint)
    assert match is not None and match.group(1) == "BEDROCK_MODEL"
    allowed = {**env, ALLOW_VARIABLE: "BEDROCK_MODEL,MAX_TOKENS,TEMPERATURE"}
    model = load_file(path, env=allowed, trusted=False).steps[1]
    assert model.max_tokens == 512


def _apply(text: str, error: InterpolationRefusedError, name: str) -> tuple[str, dict[str, str]]:
    """The file and environment after doing what the error's hint says."""
    secret = re.search(r"`!secret (\w+)`", error.hint)
    if secret is not None:
        return re.sub(rf'"\$\{{{name}\}}"', f"!secret {secret.group(1)}", text), {}
    allow = re.search(rf"{ALLOW_VARIABLE}=(\w+)", error.hint)
    if allow is not None:
        return text, {ALLOW_VARIABLE: allow.group(1)}
    assert "write a literal" in error.hint, error.hint
    return text.replace(f"${{{name}}}", "a literal"), {}


HINT_CASES = [
    # (field line, variable): every refusal's hint, applied, gives a file that works
    ('    aws_secret_access_key: "${MY_SECRET_KEY}"\n', "MY_SECRET_KEY"),
    ('    aws_secret_access_key: "${AWS_SECRET_ACCESS_KEY}"\n', "AWS_SECRET_ACCESS_KEY"),
    ('    aws_secret_access_key: "${OPENAI_API_KEY}"\n', "OPENAI_API_KEY"),
    ('    stop: ["${S3_OBJECT_KEY}"]\n', "S3_OBJECT_KEY"),
    ('    stop: ["${AWS_SESSION_TOKEN}"]\n', "AWS_SESSION_TOKEN"),
]


@pytest.mark.parametrize(("line", "name"), HINT_CASES, ids=[name for _, name in HINT_CASES])
def test_every_interpolation_hint_leads_to_a_file_that_validates_and_loads(
    project: Path, line: str, name: str
) -> None:
    text = bedrock(line)
    path = write(project, "b.yaml", text)
    env = {name: "value-of-the-variable"}
    with pytest.raises(InterpolationRefusedError) as caught:
        load_file(path, env=env)
    assert caught.value.line == 10 and name in caught.value.message
    fixed, extra = _apply(text, caught.value, name)
    write(project, "b.yaml", fixed)
    secrets = dict.fromkeys(re.findall(r"!secret (\w+)", fixed), "s3cr3t-value")
    full_env = {**env, **extra, **secrets}
    assert validate_manifest(path, env=full_env) == []
    assert load_file(path, env=full_env, secrets_map=secrets, secrets_from_env=False)


def test_a_secret_field_hint_never_names_another_services_secret(project: Path) -> None:
    path = write(project, "b.yaml", bedrock(HINT_CASES[2][0]))
    with pytest.raises(InterpolationRefusedError) as caught:
        load_file(path, env={"OPENAI_API_KEY": FAKE_SECRET})
    assert "`!secret AWS_SECRET_ACCESS_KEY`" in caught.value.hint
    assert "`!secret OPENAI_API_KEY`" not in caught.value.hint


# -- item 4: a misspelt secret is an error everywhere ----------------------------------------

MISSPELT = bedrock(
    "    aws_access_key_id: !secret MY_AWS_KEY_ID\n"
    "    aws_secret_access_key: !secret MY_AWS_SECRT\n"
    "    endpoint_url: ${BEDROCK_ENDPOINT_URL}\n"
)


@pytest.fixture
def misspelt(project: Path, aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The misspelt manifest; the environment holds valid emulator keys under the AWS
    names (what boto3 would fall back to) and under the names the author meant."""
    monkeypatch.setenv("BEDROCK_ENDPOINT_URL", aws_env.endpoint_url)
    monkeypatch.setenv("MY_AWS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("MY_AWS_SECRET", EMULATOR_SECRET)
    return write(project, "b.yaml", MISSPELT)


def test_validate_names_a_misspelt_secret_by_default(
    misspelt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "validate", misspelt)
    assert code == 1
    assert (
        f"{misspelt}:11:5: environment: $.steps[1].aws_secret_access_key: secret "
        "MY_AWS_SECRT is not set in the environment"
    ) in out
    assert "MY_AWS_SECRET is set" in out and EMULATOR_SECRET not in out


def test_run_refuses_a_misspelt_secret_and_never_calls_with_other_credentials(
    misspelt: Path, aws_env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "run", misspelt, "--input", '{"question": "hi"}')
    assert code == 1 and out == ""
    assert f"{misspelt}:11:5" in err and "MY_AWS_SECRT" in err
    assert "MY_AWS_SECRET is set" in err and EMULATOR_SECRET not in err
    assert aws_env.requests == []
    write(misspelt.parent, "b.yaml", MISSPELT.replace("SECRT", "SECRET"))
    code, out, _ = cli(capsys, "run", misspelt, "--input", '{"question": "hi"}')
    assert code == 0 and out.strip() and len(aws_env.requests) == 1


def test_load_file_names_every_missing_secret_at_once(misspelt: Path) -> None:
    text = MISSPELT.replace("MY_AWS_KEY_ID\n", "MY_AWS_KEY\n")
    write(misspelt.parent, "b.yaml", text)
    with pytest.raises(MissingSecretError) as caught:
        load_file(misspelt)
    error = caught.value
    assert (error.file, error.line) == (str(misspelt), 10)
    assert error.path == "$.steps[1].aws_access_key_id" and "MY_AWS_KEY " in error.message
    assert "also not set: MY_AWS_SECRT (field 'aws_secret_access_key'" in error.message
    assert f"{misspelt}:11:5" in error.message


def test_loads_with_an_unresolved_optional_secret_is_an_error() -> None:
    node = runwire.dumpd(runwire.load_file(ROOT / "configs" / "quickstart.yaml", env={}))
    node["kwargs"]["middle"][0]["kwargs"]["aws_session_token"] = {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SESSION_TOKEN"],
    }
    with pytest.raises(MissingSecretError, match="AWS_SESSION_TOKEN"):
        runwire.load(node, allowed_objects="all")
    built = runwire.load(node, allowed_objects="all", secrets_map={"AWS_SESSION_TOKEN": "tok1"})
    assert built.middle[0].aws_session_token.get_secret_value() == "tok1"


# -- item 5: the author's secret names in dumps and snapshots --------------------------------

NAMED = bedrock(
    "    aws_access_key_id: !secret PROD_AWS_KEY_ID\n"
    "    aws_secret_access_key: !secret PROD_AWS_SECRET\n"
)


def test_dump_and_snapshots_keep_the_authors_secret_names(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(project, "b.yaml", NAMED)
    code, out, _ = cli(capsys, "dump", "-q", path)
    assert code == 0
    assert '"PROD_AWS_SECRET"' in out and '"PROD_AWS_KEY_ID"' in out
    assert "AWS_SECRET_ACCESS_KEY" not in out
    first = canonical_text(str(path))
    write(project, "b.yaml", NAMED.replace("PROD_AWS_SECRET", "STAGING_AWS_SECRET"))
    renamed = canonical_text(str(path))
    assert renamed != first and '"STAGING_AWS_SECRET"' in renamed
    # LangChain's dialect writes LangChain's names
    code, out, _ = cli(capsys, "dump", "-q", "--dialect", "langchain", path)
    assert code == 0 and '"AWS_SECRET_ACCESS_KEY"' in out and "STAGING" not in out


def test_a_dump_with_the_authors_names_loads_back_with_those_names(project: Path) -> None:
    path = write(project, "b.yaml", NAMED)
    secrets = {"PROD_AWS_KEY_ID": "AKIDPROD", "PROD_AWS_SECRET": FAKE_SECRET}
    chain = load_file(path, secrets_map=secrets, env={})
    text = runwire.dumps(chain)
    assert FAKE_SECRET not in text and "PROD_AWS_SECRET" in text
    again = runwire.loads(text, secrets_map=secrets, allowed_objects="all", trusted=True)
    assert again == chain and runwire.dumps(again) == text
    assert repr(again.steps[1].aws_secret_access_key) == "SecretStr('**********')"


# -- item 6: load_file does what the command line does ---------------------------------------


def test_load_file_reads_secrets_from_the_environment_like_run(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(project, "b.yaml", NAMED)
    monkeypatch.setenv("PROD_AWS_KEY_ID", "AKIDPROD")
    monkeypatch.setenv("PROD_AWS_SECRET", FAKE_SECRET)
    model = load_file(path).steps[1]
    assert model.aws_secret_access_key.get_secret_value() == FAKE_SECRET
    # an untrusted file never reads the environment on its own
    allowed = {ALLOW_VARIABLE: "BEDROCK_MODEL,MAX_TOKENS,TEMPERATURE"}
    with pytest.raises(MissingSecretError) as caught:
        load_file(path, trusted=False, env=allowed)
    assert "secrets_map" in caught.value.hint
    with pytest.raises(MissingSecretError):
        load_file(path, secrets_from_env=False)


# -- item 13: errors name the variable behind a value, and the nearest prompt key ----------


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"MAX_TOKENS": "many"}, "environment variable MAX_TOKENS"),
        ({}, "its default 'lots' (MAX_TOKENS is not set)"),
    ],
)
def test_a_number_error_names_the_variable_and_its_source(
    project: Path, env: dict[str, str], source: str
) -> None:
    path = write(project, "b.yaml", bedrock().replace("MAX_TOKENS:-256", "MAX_TOKENS:-lots"))
    with pytest.raises(FieldValidationError) as caught:
        load_file(path, env=env)
    error = caught.value
    assert error.line == 8 and "unable to parse string as an integer" in error.message
    assert f"(the value comes from ${{MAX_TOKENS}}: {source})" in error.message
    assert "MAX_TOKENS" in error.hint
    (finding,) = validate_manifest(path, env=env)
    assert finding.line == 8 and source in finding.message
    assert "many" not in error.message  # an environment value is never quoted


def test_a_missing_prompt_variable_suggests_the_nearest_key(project: Path) -> None:
    path = write(
        project,
        "p.yaml",
        """\
_type: sequence
steps:
  - _type: parallel
    branches:
      contxt: {_type: PromptTemplate, template: "x"}
      question: {_type: PromptTemplate, template: "y"}
  - _type: ChatPromptTemplate
    messages: [[human, "{question} {context}"]]
  - _type: FakeChatModel
    responses: ["a"]
""",
    )
    (finding,) = validate_manifest(path)
    assert finding.kind == "prompt-variables" and finding.line == 7
    assert finding.hint.startswith("did you mean 'contxt' for 'context'?")


def test_validate_of_a_deployment_looks_secrets_up_in_its_secret_sources(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "b.yaml", NAMED)
    deployment = write(project, "runwire.yaml", "pipelines:\n  chat: b.yaml\n")
    secrets_dir = project / "secrets"
    secrets_dir.mkdir()
    monkeypatch.setenv("RUNWIRE_SECRETS__DIR", str(secrets_dir))
    monkeypatch.setenv("RUNWIRE_SECRETS__ORDER", "env,dir")
    monkeypatch.setenv("PROD_AWS_KEY_ID", "AKIDPROD")
    code, out, _ = cli(capsys, "validate", deployment)
    assert code == 1
    assert "secret PROD_AWS_SECRET is not set in any secret source" in out
    (secrets_dir / "PROD_AWS_SECRET").write_text(FAKE_SECRET + "\n")
    code, out, _ = cli(capsys, "validate", deployment)
    assert code == 0, out
    assert FAKE_SECRET not in out


def test_a_secret_of_another_service_gets_a_hint_that_loads(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runwire.errors import SecretPlacementError

    text = bedrock(
        "    aws_access_key_id: !secret PROD_AWS_KEY_ID\n"
        "    aws_secret_access_key: !secret OPENAI_API_KEY\n"
    )
    path = write(project, "b.yaml", text)
    monkeypatch.setenv("PROD_AWS_KEY_ID", "AKIDPROD")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_SECRET)
    with pytest.raises(SecretPlacementError) as caught:
        load_file(path)
    assert caught.value.line == 11
    match = re.search(r"!secret (\w+)", caught.value.hint)
    assert match is not None and match.group(1) == "AWS_SECRET_ACCESS_KEY"
    write(project, "b.yaml", text.replace("OPENAI_API_KEY", match.group(1)))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value")
    assert validate_manifest(path) == []
    model = load_file(path).steps[1]
    assert model.aws_secret_access_key.get_secret_value() == "aws-secret-value"
