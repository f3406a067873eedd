"""The ``${VAR}`` rule: names configured as secrets never interpolate, credential-shaped
names need the allowlist, plain config names just work, and every refusal's hint leads
to a file that loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import FAKE_SECRET, TEST_NS, KeyedProbe
from runwire.errors import ManifestError
from runwire.loader.files import load_file
from runwire.loader.interpolate import (
    ALLOW_VARIABLE,
    BUILTIN_SECRET_IDS,
    InterpolationRefusedError,
    allowlist,
    interpolate,
    refusal,
    secret_like,
)
from runwire.loader.registry import class_for
from runwire.schema.ids import id_table
from runwire.schema.serializable import class_plan

PLAIN_CONFIG = [
    "MAX_TOKENS", "TOKENIZER", "TOKEN_LIMIT", "MAX_INPUT_TOKENS", "TOKENS_PER_MINUTE",
    "BEDROCK_MODEL", "BEDROCK_ENDPOINT_URL", "OPENAI_BASE_URL", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_PROFILE", "PORT", "HOST", "LOG_LEVEL", "MODEL_ID",
    "KMS_KEY_ID", "KEY_PREFIX", "AUTHOR", "DB_NAME", "REDIS_HOST", "TOP_K", "TEMPERATURE",
    "KNOWLEDGE_BASE_ID", "S3_BUCKET", "PWD", "CHAT_ANSWER", "maxTokens",
]  # fmt: skip

CREDENTIALS = [
    # the five the old heuristic let through
    "DATABASE_URL", "OPENAI_KEY", "GPG_PASSPHRASE", "SIGNING_KEY", "AUTH_HEADER",
    # and the usual suspects, in every spelling
    "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
    "GITHUB_TOKEN", "HF_TOKEN", "DB_PASSWORD", "SMTP_PASS", "DB_PWD", "SENTRY_DSN",
    "REDIS_URL", "MONGODB_URI", "SQLALCHEMY_DATABASE_URI", "CELERY_BROKER_URL",
    "AZURE_STORAGE_CONNECTION_STRING", "CLIENT_SECRET", "SSH_PRIVATE_KEY", "BASIC_AUTH",
    "AUTHORIZATION", "GOOGLE_APPLICATION_CREDENTIALS", "TOKEN", "openai_api_key", "apiKey",
    "MyAPIKey", "API_KEY_2", "ANTHROPIC_API_KEY2",
]  # fmt: skip


@pytest.mark.parametrize("name", PLAIN_CONFIG)
def test_plain_config_names_interpolate(name: str) -> None:
    assert not secret_like(name) and refusal(name) is None
    assert interpolate({"t": f"<${{{name}}}>"}, {name: "v"}, allow=()) == {"t": "<v>"}


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_names_are_refused_and_their_value_never_shown(name: str) -> None:
    with pytest.raises(InterpolationRefusedError) as caught:
        interpolate({"prompt": f"key: ${{{name}}}"}, {name: FAKE_SECRET}, allow=())
    error = caught.value
    assert name in error.message and error.path == "$.prompt"
    assert FAKE_SECRET not in str(error) and FAKE_SECRET not in repr(error)


def test_the_allowlist_admits_credential_shaped_names_by_name_or_pattern() -> None:
    data = {"a": "${S3_OBJECT_KEY}", "b": "${MYAPP_SORT_KEY}"}
    env = {"S3_OBJECT_KEY": "k1", "MYAPP_SORT_KEY": "k2"}
    with pytest.raises(InterpolationRefusedError):
        interpolate(data, env, allow=())
    assert interpolate(data, env, allow=["S3_OBJECT_KEY", "MYAPP_*"]) == {"a": "k1", "b": "k2"}
    from_env = {**env, ALLOW_VARIABLE: " S3_OBJECT_KEY , MYAPP_*,"}
    assert allowlist(from_env) == ("S3_OBJECT_KEY", "MYAPP_*")
    assert interpolate(data, from_env) == {"a": "k1", "b": "k2"}


@pytest.mark.parametrize(
    ("name", "data", "options"),
    [
        ("AWS_SECRET_ACCESS_KEY", {"t": "${AWS_SECRET_ACCESS_KEY}"}, {}),
        ("MY_SETTING", {"t": "${MY_SETTING}", "k": {"_secret": "MY_SETTING"}}, {}),
        (
            "MY_SETTING",
            {"t": "${MY_SETTING}", "k": {"lc": 1, "type": "secret", "id": ["MY_SETTING"]}},
            {},
        ),
        ("MY_SETTING", {"t": "${MY_SETTING}"}, {"secret_names": ["MY_SETTING"]}),
    ],
)
def test_names_configured_as_secrets_are_refused_even_when_allowlisted(
    name: str, data: dict[str, Any], options: dict[str, Any]
) -> None:
    with pytest.raises(InterpolationRefusedError, match="configured as a secret") as caught:
        interpolate(data, {name: FAKE_SECRET}, allow=[name, "*"], **options)
    assert "`!secret" not in caught.value.hint  # "t" is no secret field: no dead end


def test_a_registered_class_secret_id_is_configured_as_secret(registered: list[str]) -> None:
    assert class_plan(KeyedProbe).secrets["api_key"] == "API_KEY"
    with pytest.raises(InterpolationRefusedError, match="registered class"):
        interpolate({"t": "${API_KEY}"}, {"API_KEY": FAKE_SECRET}, allow=["API_KEY"])


def test_builtin_secret_ids_match_the_registry() -> None:
    found = set()
    for entry in id_table.entries:
        if entry.group != "user":
            found.update(class_plan(class_for(entry)).secrets.values())
    assert found == BUILTIN_SECRET_IDS


def test_a_url_value_with_a_password_is_refused_whatever_the_name() -> None:
    value = f"postgres://app:{FAKE_SECRET}@db.internal/app"
    with pytest.raises(InterpolationRefusedError, match="URL with a password") as caught:
        interpolate({"t": "${SERVICE_ENDPOINT}"}, {"SERVICE_ENDPOINT": value}, allow=["*"])
    assert FAKE_SECRET not in str(caught.value)
    plain = {"SERVICE_ENDPOINT": "https://user@example.com/x"}
    assert interpolate({"t": "${SERVICE_ENDPOINT}"}, plain) == {"t": plain["SERVICE_ENDPOINT"]}


def test_escaped_placeholders_are_not_checked() -> None:
    assert interpolate({"t": "$${OPENAI_API_KEY}"}, {}) == {"t": "${OPENAI_API_KEY}"}


# -- the hints lead to files that load ----------------------------------------------------

CHAIN = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: "Answer in {n} tokens: {word}"
    partial_variables: {n: "${MAX_TOKENS}"}
  - _type: FakeChatModel
    responses: ["${GREETING_WORD}"]
  - _type: StrOutputParser
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


def _refused(path: Path, **options: Any) -> ManifestError:
    with pytest.raises(InterpolationRefusedError) as caught:
        load_file(path, **options)
    return caught.value


def test_max_tokens_reaches_a_prompt_in_a_file(project: Path) -> None:
    path = project / "c.yaml"
    path.write_text(CHAIN)
    chain = load_file(path, env={"MAX_TOKENS": "256", "GREETING_WORD": "Hi"})
    assert chain.invoke({"word": "x"}) == "Hi"
    assert chain.first.partial_variables == {"n": "256"}


def test_hint_in_a_plain_field_names_the_allowlist_and_it_works(project: Path) -> None:
    path = project / "c.yaml"
    path.write_text(CHAIN.replace("GREETING_WORD", "REPLY_TOKEN"))
    env = {"MAX_TOKENS": "256", "REPLY_TOKEN": "Hi"}
    error = _refused(path, env=env)
    assert (error.file, error.line) == (str(path), 7)
    assert f"{ALLOW_VARIABLE}=REPLY_TOKEN" in error.hint and "!secret" not in error.hint
    chain = load_file(path, env={**env, ALLOW_VARIABLE: "REPLY_TOKEN"})
    assert chain.invoke({"word": "x"}) == "Hi"


KEYED = f"""\
_type: {TEST_NS}.KeyedProbe
api_key: "${{OPENAI_API_KEY}}"
"""


def test_hint_in_a_secret_field_is_the_secret_tag_and_it_works(
    project: Path, registered: list[str]
) -> None:
    path = project / "k.yaml"
    path.write_text(KEYED)
    options: dict[str, Any] = {"valid_namespaces": [TEST_NS], "allowed_objects": "all"}
    error = _refused(path, env={"OPENAI_API_KEY": FAKE_SECRET}, **options)
    assert "`!secret OPENAI_API_KEY`" in error.hint
    path.write_text(KEYED.replace('"${OPENAI_API_KEY}"', "!secret OPENAI_API_KEY"))
    probe = load_file(path, secrets_map={"OPENAI_API_KEY": FAKE_SECRET}, **options)
    assert probe.api_key.get_secret_value() == FAKE_SECRET


def test_load_file_never_interpolates_a_name_given_in_secrets_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    manifest = tmp_path / "p.yaml"
    manifest.write_text('_type: PromptTemplate\ntemplate: "${PROD_DB}"\n')
    monkeypatch.setenv("PROD_DB", "plain-config")
    assert load_file(manifest).template == "plain-config"
    with pytest.raises(ManifestError, match="configured as a secret"):
        load_file(manifest, secrets_map={"PROD_DB": "s3cr3t-value"})
