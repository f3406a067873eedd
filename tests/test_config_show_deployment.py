"""`runwire config show` prints what `runwire serve` will use: runwire.yaml's limits included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runwire.cli.main import main
from runwire.deploy.server.runner import ServeSpec, build_service

DEPLOYMENT = """\
server:
  max_body_bytes: 65536
  request_timeout_s: 30
pipelines:
  chat: chat.yaml
environments:
  prod:
    server: {max_concurrency: 16}
"""
CHAT = "_type: FakeChatModel\nresponses: [hi]\n"
LIMITS = ("max_body_bytes", "request_timeout_s", "max_concurrency")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "runwire.yaml").write_text(DEPLOYMENT)
    (tmp_path / "chat.yaml").write_text(CHAT)
    monkeypatch.chdir(tmp_path)
    for name in ("RUNWIRE_ENV", "RUNWIRE_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    for name in LIMITS:
        monkeypatch.delenv(f"RUNWIRE_SERVER__{name.upper()}", raising=False)
    return tmp_path


def _shown(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, str]]:
    assert main(["config", "show", "--format", "json"]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)}


def _served() -> dict[str, object]:
    server = build_service(ServeSpec()).server
    return {name: getattr(server, name) for name in LIMITS}


def test_limits_from_runwire_yaml_are_shown_as_serve_uses_them(project: Path, capsys) -> None:
    rows = _shown(capsys)
    served = _served()
    assert served["max_body_bytes"] == 65536
    for name in LIMITS:
        row = rows[f"server.{name}"]
        assert json.loads(row["value"]) == served[name], name
    assert rows["server.max_body_bytes"]["origin"] == "runwire.yaml"
    assert rows["server.max_concurrency"]["origin"] == "default"


def test_environment_overlay_and_variables_keep_serves_precedence(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWIRE_ENV", "prod")
    monkeypatch.setenv("RUNWIRE_SERVER__MAX_BODY_BYTES", "2048")  # a variable beats the file
    rows = _shown(capsys)
    served = _served()
    assert served == {"max_body_bytes": 2048, "request_timeout_s": 30.0, "max_concurrency": 16}
    for name in LIMITS:
        assert json.loads(rows[f"server.{name}"]["value"]) == served[name], name
    assert rows["server.max_body_bytes"]["origin"] == "env RUNWIRE_SERVER__MAX_BODY_BYTES"
    assert rows["server.max_concurrency"]["origin"] == "runwire.yaml (environment prod)"


def test_a_broken_deployment_is_reported_not_shown(project: Path, capsys) -> None:
    (project / "runwire.yaml").write_text("server: {max_body_bytes: -1}\npipelines: {}\n")
    assert main(["config", "show"]) == 1
    err = capsys.readouterr().err
    assert "runwire.yaml" in err and "max_body_bytes" in err


def test_without_a_deployment_file_the_defaults_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWIRE_DEPLOYMENT", raising=False)
    monkeypatch.delenv("RUNWIRE_SERVER__MAX_BODY_BYTES", raising=False)
    rows = _shown(capsys)
    assert rows["server.max_body_bytes"] == {
        "name": "server.max_body_bytes",
        "value": "1048576",
        "origin": "default",
    }
