"""Secret sources and the resolver: explicit, env, .env, secrets dir, and AWS Secrets
Manager / SSM Parameter Store through moto's real server on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FAKE_SECRET, LOAD_TEST_CLASSES, keyed_probe, secret
from runwire.deploy.secrets import (
    AwsSecretsManagerSource,
    AwsSsmSource,
    DotenvSource,
    EnvSource,
    ExplicitSource,
    SecretResolver,
    SecretsDirSource,
    SecretSourceError,
    secret_resolver,
)
from runwire.deploy.settings import load_settings
from runwire.errors import ProviderError, ProviderSetupError

REGION = "us-east-1"


# -- moto ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, moto_url: str) -> str:
    """Dummy credentials in the environment; returns moto's endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return moto_url


def boto(service: str, url: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


_names = itertools.count()


def unique(stem: str) -> str:
    """A name no other test uses (moto's state lives as long as the module's server)."""
    return f"{stem}{next(_names)}"


class Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_requests(source: Any) -> list[str]:
    """The operations ``source``'s client sends from now on (a botocore event hook)."""
    sent: list[str] = []
    source.client.meta.events.register(
        "before-send", lambda request, **_: sent.append(request.headers.get("X-Amz-Target", ""))
    )
    return sent


# -- the local sources ---------------------------------------------------------------------
def test_explicit_source() -> None:
    source = ExplicitSource({"A": FAKE_SECRET, "EMPTY": ""})
    assert source.name == "explicit"
    assert source.get("A") == FAKE_SECRET
    assert source.get("B") is None
    assert source.get("EMPTY") is None  # empty counts as missing: the next source is asked
    assert FAKE_SECRET not in repr(source)


def test_env_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RW_TEST_SECRET", FAKE_SECRET)
    monkeypatch.setenv("RW_TEST_EMPTY", "")
    source = EnvSource()
    assert source.name == "env"
    assert source.get("RW_TEST_SECRET") == FAKE_SECRET
    assert source.get("RW_TEST_EMPTY") is None
    monkeypatch.delenv("RW_TEST_SECRET")
    assert source.get("RW_TEST_SECRET") is None  # read at each lookup
    assert EnvSource({"K": "v"}).get("K") == "v"
    assert EnvSource({"K": "v"}).get("RW_TEST_EMPTY") is None


def test_dotenv_source(tmp_path: Path) -> None:
    path = tmp_path / "app.env"
    path.write_text(
        f"# comment\nA={FAKE_SECRET}\nexport B='quoted value'\nC=\"with # hash\"\nD=\nE\n",
        encoding="utf-8",
    )
    source = DotenvSource(path)
    assert source.name == "dotenv"
    assert source.get("A") == FAKE_SECRET
    assert source.get("B") == "quoted value"
    assert source.get("C") == "with # hash"
    assert source.get("D") is None and source.get("E") is None and source.get("Z") is None
    assert FAKE_SECRET not in repr(source)
    assert DotenvSource(tmp_path / "missing.env").get("A") is None


def test_secrets_dir_source(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / "DB_PASSWORD").write_text(FAKE_SECRET + "\n", encoding="utf-8")
    (directory / "CRLF").write_bytes(b"line\r\n")
    (directory / "TWO_LINES").write_text("a\n\n", encoding="utf-8")
    (directory / "NO_NEWLINE").write_text("  spaced  ", encoding="utf-8")
    (directory / "sub").mkdir()
    source = SecretsDirSource(directory)
    assert source.name == "dir"
    assert source.get("DB_PASSWORD") == FAKE_SECRET
    assert source.get("CRLF") == "line"
    assert source.get("TWO_LINES") == "a\n"  # one trailing newline only
    assert source.get("NO_NEWLINE") == "  spaced  "
    assert source.get("MISSING") is None
    assert source.get("sub") is None  # a directory is not a secret
    (directory / "DB_PASSWORD").write_text("rotated\n", encoding="utf-8")
    assert source.get("DB_PASSWORD") == "rotated"  # read at each lookup
    assert SecretsDirSource(tmp_path / "absent").get("DB_PASSWORD") is None


def test_secrets_dir_source_rejects_paths(tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    (directory / "sub").mkdir(parents=True)
    (directory / "sub" / "inner").write_text("inner", encoding="utf-8")
    (tmp_path / "outside").write_text("outside", encoding="utf-8")
    source = SecretsDirSource(directory)
    assert (directory / ".." / "outside").is_file()  # the files exist, yet:
    for key in ("../outside", "sub/inner", "..", ".", "", "sub\\inner", "a\0b"):
        assert source.get(key) is None, key
    assert SecretsDirSource(directory / "sub").get("inner") == "inner"


# -- AWS -----------------------------------------------------------------------------------
def test_secrets_manager_source(aws: str) -> None:
    client = boto("secretsmanager", aws)
    name = unique("plain")
    client.create_secret(Name=f"app/{name}", SecretString=FAKE_SECRET)
    source = AwsSecretsManagerSource("app/", REGION, aws, 60)
    assert source.name == "aws_secretsmanager"
    assert source.get(name) == FAKE_SECRET
    assert source.get(unique("absent")) is None  # ResourceNotFoundException: next source
    assert AwsSecretsManagerSource("", REGION, aws, 60).get(name) is None  # prefix applies
    assert FAKE_SECRET not in repr(source)


def test_secrets_manager_json_keys(aws: str) -> None:
    client = boto("secretsmanager", aws)
    name, plain = unique("db"), unique("text")
    client.create_secret(
        Name=name, SecretString=json.dumps({"password": FAKE_SECRET, "port": 5432, "opt": None})
    )
    client.create_secret(Name=plain, SecretString="not json")
    source = AwsSecretsManagerSource("", REGION, aws, 60)
    sent = count_requests(source)
    assert source.get(f"{name}#password") == FAKE_SECRET
    assert source.get(f"{name}#port") == "5432"
    assert source.get(f"{name}#missing") is None
    assert source.get(f"{name}#opt") is None
    assert json.loads(source.get(name) or "")["port"] == 5432  # the whole secret
    assert len(sent) == 1  # one lookup serves every key while cached
    with pytest.raises(SecretSourceError, match="not a JSON object") as caught:
        source.get(f"{plain}#key")
    assert "not json" not in str(caught.value)


def test_ssm_source(aws: str) -> None:
    client = boto("ssm", aws)
    name = unique("token")
    client.put_parameter(Name=f"/runwire/prod/{name}", Value=FAKE_SECRET, Type="SecureString")
    client.put_parameter(Name=f"/runwire/prod/{name}_plain", Value="plain", Type="String")
    source = AwsSsmSource("/runwire/prod/", REGION, aws, 60)
    assert source.name == "aws_ssm"
    assert source.get(name) == FAKE_SECRET  # decrypted
    assert source.get(f"{name}_plain") == "plain"
    assert source.get(unique("absent")) is None  # ParameterNotFound: next source
    assert FAKE_SECRET not in repr(source)


def test_other_aws_errors_are_provider_errors(aws: str) -> None:
    client = boto("secretsmanager", aws)
    name = unique("doomed")
    client.create_secret(Name=name, SecretString=FAKE_SECRET)
    client.delete_secret(SecretId=name)  # scheduled for deletion: InvalidRequestException
    source = AwsSecretsManagerSource("", REGION, aws, 60)
    with pytest.raises(ProviderError) as caught:
        source.get(name)
    error = caught.value
    assert (error.provider, error.operation, error.code) == (
        "secretsmanager",
        "GetSecretValue",
        "InvalidRequestException",
    )
    assert error.status == 400
    assert FAKE_SECRET not in str(error) and error.__cause__ is None


def test_clients_are_built_on_first_get(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region anywhere: building the sources is fine, the first lookup is not."""
    for source in (AwsSecretsManagerSource("", None, None, 60), AwsSsmSource("", None, None, 60)):
        with pytest.raises(ProviderSetupError, match=f"{type(source).__name__}: no AWS region"):
            source.get("X")


def test_injected_client_is_used(aws: str) -> None:
    client = boto("ssm", aws)
    name = unique("injected")
    client.put_parameter(Name=name, Value="v", Type="String")
    source = AwsSsmSource("", "eu-west-3", "http://127.0.0.1:9", 60, client=client)
    assert source.get(name) == "v"  # the region/endpoint fields are not used


@pytest.mark.parametrize("kind", ["secretsmanager", "ssm"])
def test_aws_lookups_are_cached_for_ttl(aws: str, kind: str) -> None:
    client = boto(kind, aws)
    name = unique("cached")

    def write(value: str, *, first: bool = False) -> None:
        if kind == "ssm":
            client.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
        elif first:
            client.create_secret(Name=name, SecretString=value)
        else:
            client.put_secret_value(SecretId=name, SecretString=value)

    clock = Clock()
    source_cls = AwsSsmSource if kind == "ssm" else AwsSecretsManagerSource
    source = source_cls("", REGION, aws, 30, clock=clock)
    sent = count_requests(source)
    write("v1", first=True)
    assert source.get(name) == "v1"
    assert len(sent) == 1
    write("v2")
    clock.now += 29.9
    assert source.get(name) == "v1"  # within the TTL: the cached value, no request
    assert len(sent) == 1
    clock.now += 0.1
    assert source.get(name) == "v2"  # expired: asked again
    assert len(sent) == 2
    missing = unique("later")
    assert source.get(missing) is None
    assert len(sent) == 3
    assert source.get(missing) is None  # a miss is cached too
    assert len(sent) == 3


def test_ttl_zero_disables_the_cache(aws: str) -> None:
    client = boto("ssm", aws)
    name = unique("uncached")
    client.put_parameter(Name=name, Value="v", Type="String")
    source = AwsSsmSource("", REGION, aws, 0)
    sent = count_requests(source)
    assert [source.get(name), source.get(name)] == ["v", "v"]
    assert len(sent) == 2


# -- the resolver --------------------------------------------------------------------------
ALL_SOURCES = ["explicit", "env", "dotenv", "dir", "aws_secretsmanager", "aws_ssm"]


@pytest.fixture
def everywhere(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, dict[str, Any]]:
    """The secret SHARED_x in every source, valued by source name; returns its name and the
    ``secrets`` settings pointing at those sources."""
    key = unique("SHARED_")
    monkeypatch.setenv(key, "env")
    dotenv_file = tmp_path / "secrets.env"
    dotenv_file.write_text(f"{key}=dotenv\n", encoding="utf-8")
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / key).write_text("dir\n", encoding="utf-8")
    boto("secretsmanager", aws).create_secret(Name=f"sm/{key}", SecretString="aws_secretsmanager")
    boto("ssm", aws).put_parameter(Name=f"/params/{key}", Value="aws_ssm", Type="SecureString")
    secrets = {
        "dotenv_file": dotenv_file,
        "dir": directory,
        "aws_region": REGION,
        "aws_endpoint_url": aws,
        "secretsmanager_prefix": "sm/",
        "ssm_prefix": "/params/",
    }
    return key, secrets


@pytest.mark.parametrize("first", range(len(ALL_SOURCES)))
def test_first_source_in_order_wins(everywhere: tuple[str, dict[str, Any]], first: int) -> None:
    key, secrets = everywhere
    order = ALL_SOURCES[first:] + ALL_SOURCES[:first]  # each source leads once
    settings = load_settings(secrets={**secrets, "order": order})
    resolver = secret_resolver(settings, {key: "explicit"})
    assert [source.name for source in resolver.sources] == order
    assert resolver[key] == order[0]
    assert resolver.origin(key) == order[0]


def test_later_sources_answer_what_earlier_ones_lack(
    everywhere: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key, secrets = everywhere
    order = ["env", "dotenv", "dir", "aws_secretsmanager", "aws_ssm"]
    resolver = secret_resolver(load_settings(secrets={**secrets, "order": order}))
    expected = []
    for name in order:
        expected.append((resolver[key], resolver.origin(key)))
        if name == "env":
            monkeypatch.delenv(key)
        elif name == "dotenv":
            resolver = secret_resolver(  # the .env file is read once per source
                load_settings(secrets={**secrets, "order": order, "dotenv_file": tmp_path / "x"})
            )
        elif name == "dir":
            (secrets["dir"] / key).unlink()
        elif name == "aws_secretsmanager":
            boto("secretsmanager", secrets["aws_endpoint_url"]).delete_secret(
                SecretId=f"sm/{key}", ForceDeleteWithoutRecovery=True
            )
            resolver = secret_resolver(  # a fresh resolver: no cached AWS answer
                load_settings(secrets={**secrets, "order": order, "dotenv_file": tmp_path / "x"})
            )
    assert expected == [(name, name) for name in order]


def test_missing_everywhere(everywhere: tuple[str, dict[str, Any]]) -> None:
    key, secrets = everywhere
    resolver = secret_resolver(load_settings(secrets={**secrets, "order": ALL_SOURCES}), {})
    assert resolver[key] == "env"  # the sources work; the absent name is in none of them
    absent = unique("ABSENT_")
    assert absent not in resolver
    with pytest.raises(KeyError):
        resolver[absent]
    assert resolver.origin(absent) is None
    assert resolver.get(absent) is None
    assert list(resolver) == [key]  # only names that resolved


def test_resolver_remembers_names_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RW_RESOLVED", FAKE_SECRET)
    resolver = SecretResolver([ExplicitSource({"A": "a"}), EnvSource()])
    assert len(resolver) == 0
    assert resolver["RW_RESOLVED"] == FAKE_SECRET
    assert "A" in resolver
    assert "NOPE" not in resolver
    assert sorted(resolver) == ["A", "RW_RESOLVED"] and len(resolver) == 2
    assert resolver.origin("A") == "explicit"
    assert resolver.origin("RW_RESOLVED") == "env"
    assert FAKE_SECRET not in repr(resolver) and FAKE_SECRET not in str(resolver)
    assert "RW_RESOLVED" in repr(resolver) and "explicit, env" in repr(resolver)
    monkeypatch.setenv("RW_RESOLVED", "changed")
    assert resolver["RW_RESOLVED"] == "changed"  # no value is kept: sources are asked again


def test_origin_looks_up_unresolved_names() -> None:
    resolver = SecretResolver([ExplicitSource({}), ExplicitSource({"B": "b"})])
    assert resolver.origin("B") == "explicit" and list(resolver) == ["B"]


def test_default_settings_resolver(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.upper().startswith("RUNWIRE_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text("FROM_DOTENV=d\n", encoding="utf-8")
    resolver = secret_resolver(load_settings())
    assert [s.name for s in resolver.sources] == ["explicit", "env", "dotenv", "dir"]
    assert resolver["FROM_DOTENV"] == "d"
    assert resolver.origin("FROM_DOTENV") == "dotenv"


def test_loader_reads_secrets_through_the_resolver(
    registered: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from runwire import loads

    (tmp_path / "API_KEY").write_text(FAKE_SECRET + "\n", encoding="utf-8")
    settings = load_settings(secrets={"order": ["env", "dir"], "dir": tmp_path})
    resolver = secret_resolver(settings)
    text = json.dumps(keyed_probe(api_key=secret("API_KEY")))
    obj = loads(text, secrets_map=resolver, **LOAD_TEST_CLASSES)
    assert obj.api_key.get_secret_value() == FAKE_SECRET
    assert resolver.origin("API_KEY") == "dir"
    monkeypatch.setenv("API_KEY", "from-env")
    obj = loads(text, secrets_map=resolver, **LOAD_TEST_CLASSES)
    assert obj.api_key.get_secret_value() == "from-env"
