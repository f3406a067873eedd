"""RunwireSettings: environment, .env, secrets dir, origins, masking, `runwire config show`."""

from __future__ import annotations

import json
import os
import traceback
from pathlib import Path

import pytest
from pydantic import SecretStr

from conftest import FAKE_SECRET
from runwire.cli.main import main
from runwire.deploy import settings as settings_module
from runwire.deploy.settings import (
    MASK,
    RunwireSettings,
    SecretSettings,
    ServerSettings,
    SettingsError,
    load_settings,
    settings_report,
)
from runwire.errors import RunwireError

OTHER_SECRET = "rk-second-RUNWIRE-0xFEEDFACE-do-not-leak"


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    path = tmp_path / "settings-secrets"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secrets_dir: Path) -> Path:
    """No RUNWIRE_* variable from the machine; an empty working dir and secrets dir."""
    for name in list(os.environ):
        if name.upper().startswith("RUNWIRE_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("RUNWIRE_SECRETS_DIR", str(secrets_dir))
    return work


def origins(**init: object) -> dict[str, str]:
    return {row.name: row.origin for row in settings_report(**init)}


def values(**init: object) -> dict[str, str]:
    return {row.name: row.value for row in settings_report(**init)}


# -- reading ------------------------------------------------------------------------------
def test_defaults() -> None:
    settings = load_settings()
    assert settings.env is None and settings.deployment is None and settings.api_keys == []
    assert settings.server.port == 8000 and settings.server.host == "127.0.0.1"
    assert settings.secrets.order == ["explicit", "env", "dotenv", "dir"]
    assert settings.secrets.dir == Path("/run/secrets")
    assert set(origins().values()) == {"default"}


def test_top_level_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_ENV", "prod")
    monkeypatch.setenv("RUNWIRE_DEPLOYMENT", "deploy/runwire.yaml")
    monkeypatch.setenv("runwire_log_level", "debug")  # names are case-insensitive
    settings = load_settings()
    assert settings.env == "prod"
    assert settings.deployment == Path("deploy/runwire.yaml")
    assert settings.log_level == "debug"


def test_nested_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", "9000")
    monkeypatch.setenv("RUNWIRE_SERVER__MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("RUNWIRE_SERVER", '{"workers": 3, "port": 1}')
    monkeypatch.setenv("RUNWIRE_SECRETS__ORDER", "env, aws_ssm")
    monkeypatch.setenv("RUNWIRE_SECRETS__TTL_S", "2.5")
    settings = load_settings()
    assert settings.server.port == 9000  # the nested variable beats the JSON one
    assert settings.server.workers == 3
    assert settings.server.max_body_bytes == 2048
    assert settings.secrets.order == ["env", "aws_ssm"]
    assert settings.secrets.ttl_s == 2.5


def test_secret_order_as_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_SECRETS__ORDER", '["dir", "aws_secretsmanager"]')
    assert load_settings().secrets.order == ["dir", "aws_secretsmanager"]


def test_dotenv_file(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean / ".env").write_text(
        "# settings\nRUNWIRE_LOG_LEVEL=warning\nRUNWIRE_SERVER__HOST='0.0.0.0'\n"
        "OPENAI_API_KEY=not-a-setting\nRUNWIRE_SECRETS_DIR=/ignored\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.log_level == "warning"
    assert settings.server.host == "0.0.0.0"
    monkeypatch.setenv("RUNWIRE_LOG_LEVEL", "error")  # the environment beats .env
    assert load_settings().log_level == "error"


def test_secrets_dir_files(secrets_dir: Path) -> None:
    (secrets_dir / "runwire_log_level").write_text("critical\n", encoding="utf-8")
    (secrets_dir / "RUNWIRE_SERVER").write_text('{"port": 7000}\n', encoding="utf-8")
    settings = load_settings()
    assert settings.log_level == "critical"
    assert settings.server.port == 7000


def test_default_secrets_dir_is_used_only_when_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RUNWIRE_SECRETS_DIR")
    run_secrets = tmp_path / "run-secrets"
    monkeypatch.setattr(settings_module, "DEFAULT_SECRETS_DIR", run_secrets)
    assert load_settings().log_level == "info"  # missing: no warning, no error
    run_secrets.mkdir()
    (run_secrets / "runwire_log_level").write_text("debug", encoding="utf-8")
    assert load_settings().log_level == "debug"
    assert origins()["log_level"] == f"secrets dir {run_secrets / 'runwire_log_level'}"


def test_secrets_dir_variable_must_name_a_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUNWIRE_SECRETS_DIR", str(tmp_path / "nope"))
    with pytest.raises(SettingsError, match=r"RUNWIRE_SECRETS_DIR: .*nope is not a directory"):
        load_settings()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("k1,k2", ["k1", "k2"]),
        (" k1 , ,k2,,", ["k1", "k2"]),
        ("single", ["single"]),
        ("", []),
        (",", []),
    ],
)
def test_api_keys_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("RUNWIRE_API_KEYS", raw)
    keys = load_settings().api_keys
    assert all(isinstance(key, SecretStr) for key in keys)
    assert [key.get_secret_value() for key in keys] == expected


def test_api_keys_from_secrets_file_and_init(secrets_dir: Path) -> None:
    (secrets_dir / "runwire_api_keys").write_text(f"{FAKE_SECRET},{OTHER_SECRET}\n", "utf-8")
    keys = load_settings().api_keys
    assert [k.get_secret_value() for k in keys] == [FAKE_SECRET, OTHER_SECRET]
    assert [k.get_secret_value() for k in load_settings(api_keys=["a", ""]).api_keys] == ["a"]


def test_load_settings_ignores_none_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", "9100")
    settings = load_settings(env=None, server={"port": None, "host": "0.0.0.0"})
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"
    assert origins(server={"host": "0.0.0.0"})["server.host"] == "init"


# -- origins ------------------------------------------------------------------------------
def test_every_origin_kind(clean: Path, secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", "9000")
    monkeypatch.setenv("RUNWIRE_SERVER", '{"workers": 2}')
    (clean / ".env").write_text("RUNWIRE_LOG_LEVEL=debug\n", encoding="utf-8")
    (secrets_dir / "runwire_api_keys").write_text(FAKE_SECRET, encoding="utf-8")
    found = origins(env="staging", secrets={"ttl_s": 1})
    assert found["env"] == "init"
    assert found["secrets.ttl_s"] == "init"
    assert found["secrets.order"] == "default"  # a partial init dict leaves the rest alone
    assert found["server.port"] == "env RUNWIRE_SERVER__PORT"
    assert found["server.workers"] == "env RUNWIRE_SERVER"
    assert found["server.host"] == "default"
    assert found["log_level"] == ".env"
    assert found["api_keys"] == f"secrets dir {secrets_dir / 'runwire_api_keys'}"
    assert found["deployment"] == "default"
    assert list(found) == [
        "env",
        "deployment",
        "api_keys",
        "log_level",
        *(f"server.{name}" for name in ServerSettings.model_fields),
        *(f"secrets.{name}" for name in SecretSettings.model_fields),
    ]


def test_priority_init_env_dotenv_secrets_default(
    clean: Path, secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same setting in every source: each removal hands it to the next source."""
    monkeypatch.setenv("RUNWIRE_LOG_LEVEL", "from-env")
    (clean / ".env").write_text("RUNWIRE_LOG_LEVEL=from-dotenv\n", encoding="utf-8")
    (secrets_dir / "runwire_log_level").write_text("from-secrets\n", encoding="utf-8")
    assert (values(log_level="from-init")["log_level"], origins(log_level="x")["log_level"]) == (
        "from-init",
        "init",
    )
    assert (values()["log_level"], origins()["log_level"]) == ("from-env", "env RUNWIRE_LOG_LEVEL")
    monkeypatch.delenv("RUNWIRE_LOG_LEVEL")
    assert (values()["log_level"], origins()["log_level"]) == ("from-dotenv", ".env")
    (clean / ".env").unlink()
    secret_file = secrets_dir / "runwire_log_level"
    assert (values()["log_level"], origins()["log_level"]) == (
        "from-secrets",
        f"secrets dir {secret_file}",
    )
    secret_file.unlink()
    assert (values()["log_level"], origins()["log_level"]) == ("info", "default")


def test_report_values_are_displayed() -> None:
    shown = values(server={"port": 9000}, secrets={"order": ["dir", "env"]})
    assert shown["server.port"] == "9000"
    assert shown["server.request_timeout_s"] == "60.0"
    assert shown["secrets.order"] == '["dir","env"]'
    assert shown["secrets.dir"] == "/run/secrets"
    assert shown["env"] == "null"
    assert shown["secrets.ssm_prefix"] == '""'
    assert shown["api_keys"] == "[]"


# -- masking and errors --------------------------------------------------------------------
def test_secrets_are_masked_everywhere(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RUNWIRE_API_KEYS", f"{FAKE_SECRET},{OTHER_SECRET}")
    settings = load_settings()
    assert [k.get_secret_value() for k in settings.api_keys] == [FAKE_SECRET, OTHER_SECRET]
    rows = {row.name: row for row in settings_report()}
    assert rows["api_keys"].value == f"{MASK} (2 keys)"
    assert rows["api_keys"].origin == "env RUNWIRE_API_KEYS"
    assert main(["config", "show"]) == 0
    assert main(["config", "show", "--format", "json"]) == 0
    out = capsys.readouterr().out
    texts = [repr(settings), str(settings), settings.model_dump_json(), str(rows), out]
    for text in texts:
        assert FAKE_SECRET not in text and OTHER_SECRET not in text
    assert MASK in out


def test_one_api_key_is_counted_as_one() -> None:
    assert values(api_keys=[FAKE_SECRET])["api_keys"] == f"{MASK} (1 key)"


@pytest.mark.parametrize(
    ("variable", "raw", "where", "expected"),
    [
        ("RUNWIRE_SERVER__PORT", "eighty", "RUNWIRE_SERVER__PORT (server.port)", "valid integer"),
        ("RUNWIRE_SERVER", '{"port": "eighty"}', "RUNWIRE_SERVER (server.port)", "valid integer"),
        ("RUNWIRE_SERVER", "{not json", "RUNWIRE_SERVER", "expected a JSON value"),
        (
            "RUNWIRE_SECRETS__ORDER",
            "env,vault",
            "RUNWIRE_SECRETS__ORDER (secrets.order.1)",
            "'aws_ssm'",
        ),
        (
            "RUNWIRE_SECRETS__ORDER",
            "env,dir,env",
            "RUNWIRE_SECRETS__ORDER (secrets.order)",
            "repeated: env",
        ),
        (
            "RUNWIRE_SECRETS__TTL_S",
            "soon",
            "RUNWIRE_SECRETS__TTL_S (secrets.ttl_s)",
            "valid number",
        ),
    ],
)
def test_invalid_env_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, raw: str, where: str, expected: str
) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    error = caught.value
    assert isinstance(error, RunwireError)
    assert len(error.problems) == 1
    assert error.problems[0][0] == where
    assert expected in error.problems[0][1]
    assert raw not in str(error)


def test_invalid_values_from_files_and_init(
    clean: Path, secrets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean / ".env").write_text("RUNWIRE_SERVER__WORKERS=many\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems[0][0] == "RUNWIRE_SERVER__WORKERS in .env (server.workers)"
    (clean / ".env").unlink()
    (secrets_dir / "runwire_server").write_text('{"max_concurrency": "lots"}', "utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems[0][0] == (
        f"secret file {secrets_dir / 'runwire_server'} (server.max_concurrency)"
    )
    (secrets_dir / "runwire_server").unlink()
    with pytest.raises(SettingsError) as caught:
        RunwireSettings(server={"port": "x"}, api_keys=[1])
    assert [where for where, _ in caught.value.problems] == [
        "argument api_keys.0",
        "argument server.port",
    ]


def test_errors_never_quote_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret pasted into the wrong variable stays out of the message and the traceback."""
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", FAKE_SECRET)
    monkeypatch.setenv("RUNWIRE_SERVER", "{" + FAKE_SECRET)
    monkeypatch.setenv("RUNWIRE_SECRETS__ORDER", f"env,{OTHER_SECRET}")
    for make in (load_settings, settings_report):
        with pytest.raises(SettingsError) as caught:
            make()
        shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
        assert FAKE_SECRET not in shown and OTHER_SECRET not in shown
    monkeypatch.delenv("RUNWIRE_SERVER")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    shown = "".join(traceback.format_exception(caught.value))
    assert "RUNWIRE_SERVER__PORT" in shown and "RUNWIRE_SECRETS__ORDER" in shown
    assert FAKE_SECRET not in shown and OTHER_SECRET not in shown


# -- runwire config show -------------------------------------------------------------------
def test_config_show_text_table(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", "9000")
    monkeypatch.setenv("RUNWIRE_API_KEYS", FAKE_SECRET)
    assert main(["config", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "value", "origin"]
    value_col, origin_col = lines[0].index("value"), lines[0].index("origin")
    by_name = {line.split()[0]: line for line in lines[1:]}
    assert len(by_name) == len(lines) - 1 == len(settings_report())
    port = by_name["server.port"]
    assert port[value_col:origin_col].strip() == "9000"
    assert port[origin_col:] == "env RUNWIRE_SERVER__PORT"
    assert by_name["api_keys"][value_col:origin_col].strip() == f"{MASK} (1 key)"
    assert by_name["server.host"][origin_col:] == "default"
    assert FAKE_SECRET not in "\n".join(lines)


def test_config_show_json(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RUNWIRE_LOG_LEVEL", "debug")
    assert main(["config", "show", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list) and all(set(r) == {"name", "value", "origin"} for r in rows)
    assert {"name": "log_level", "value": "debug", "origin": "env RUNWIRE_LOG_LEVEL"} in rows
    assert [r["name"] for r in rows] == [row.name for row in settings_report()]


def test_config_show_reports_invalid_settings(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__PORT", FAKE_SECRET)
    assert main(["config", "show"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "RUNWIRE_SERVER__PORT (server.port)" in captured.err
    assert FAKE_SECRET not in captured.err


def test_config_requires_an_action(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["config"])
    assert exited.value.code == 2
    assert "show" in capsys.readouterr().err
