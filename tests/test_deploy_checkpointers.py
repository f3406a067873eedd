"""runwire.yaml's `checkpointer:` setting and runwire.deploy.checkpointers, on real databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from runwire.deploy.checkpointers import (
    checkpointer_spec,
    describe_checkpointer,
    open_async_checkpointer,
    open_checkpointer,
)
from runwire.deploy.deployment import DeploymentError, deployment_json_schema, read_deployment
from runwire.deploy.deployment_models import CheckpointerSpec
from runwire.errors import MissingSecretError, ProviderError
from runwire.graph.checkpoint import (
    AsyncPostgresSaver,
    PostgresSaver,
    SqliteSaver,
    empty_checkpoint,
)
from runwire.loader.source import read_yaml_tree

CONFIG = {"configurable": {"thread_id": "t1", "checkpoint_ns": ""}}
PASSWORD = "Pg-pa55word-never-shown"


def deployment(tmp_path: Path, text: str, env: str | None = None) -> Any:
    (tmp_path / "chain.yaml").write_text("_type: StrOutputParser\n")
    (tmp_path / "runwire.yaml").write_text("pipelines:\n  chain: chain.yaml\n" + text)
    return read_deployment(tmp_path / "runwire.yaml", env=env)


def roundtrip(saver: Any) -> Any:
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"a": 1}
    saved = saver.put(CONFIG, checkpoint, {"source": "input", "step": -1}, {})
    return saver.get_tuple(saved).checkpoint["channel_values"]


def test_sqlite_beside_the_deployment_file_is_the_default(tmp_path: Path) -> None:
    dep = deployment(tmp_path, "")
    assert dep.checkpointer.sqlite.path == tmp_path / ".runwire" / "checkpoints.db"
    with open_checkpointer(dep, {}) as saver:
        assert isinstance(saver, SqliteSaver)
        assert roundtrip(saver) == {"a": 1}
    assert (tmp_path / ".runwire" / "checkpoints.db").is_file()
    assert checkpointer_spec(None).sqlite.path == Path(".runwire/checkpoints.db")


def test_a_sqlite_path_is_relative_to_the_deployment_file(tmp_path: Path) -> None:
    dep = deployment(tmp_path, "checkpointer:\n  sqlite: {path: state/threads.db}\n")
    with open_checkpointer(dep, {}) as saver:
        roundtrip(saver)
    assert (tmp_path / "state" / "threads.db").is_file()
    assert describe_checkpointer(dep) == f"sqlite {tmp_path / 'state' / 'threads.db'}"


def test_postgres_from_a_secret_opens_sync_and_async_savers(
    tmp_path: Path, postgres_dsn: str
) -> None:
    dep = deployment(
        tmp_path, "checkpointer:\n  postgres: {dsn: !secret PG_DSN, max_size: 2, timeout_s: 5}\n"
    )
    assert dep.checkpointer.postgres.dsn == "PG_DSN"
    secrets = {"PG_DSN": postgres_dsn}
    with open_checkpointer(dep, secrets) as saver:
        assert isinstance(saver, PostgresSaver)
        assert roundtrip(saver) == {"a": 1}

    async def read_async() -> Any:
        async with open_async_checkpointer(dep, secrets) as saver:
            assert isinstance(saver, AsyncPostgresSaver)
            return (await saver.aget_tuple(CONFIG)).checkpoint["channel_values"]

    assert asyncio.run(read_async()) == {"a": 1}  # the same database, seen from asyncio
    assert describe_checkpointer(dep) == "postgres (DSN from secret PG_DSN)"


def test_the_async_factory_opens_sqlite_too(tmp_path: Path) -> None:
    spec = CheckpointerSpec.model_validate({"sqlite": {"path": str(tmp_path / "a" / "t.db")}})

    async def run() -> Any:
        async with open_async_checkpointer(spec, {}) as saver:
            assert isinstance(saver, SqliteSaver)
            checkpoint = empty_checkpoint()
            saved = await saver.aput(CONFIG, checkpoint, {"step": -1}, {})
            return await saver.aget_tuple(saved)

    assert asyncio.run(run()) is not None


def test_a_sole_writer_runs_sqlite_on_the_loop_without_fsyncs_there(tmp_path: Path) -> None:
    spec = CheckpointerSpec.model_validate({"sqlite": {"path": str(tmp_path / "s.db")}})

    async def run() -> tuple[Any, ...]:
        async with open_async_checkpointer(spec, {}, sole_writer=True) as saver:
            saved = await saver.aput(CONFIG, empty_checkpoint(), {"step": -1}, {})
            conn = saver.conn  # type: ignore[attr-defined]
            return (
                saver.inline_async,  # type: ignore[attr-defined]
                conn.execute("PRAGMA synchronous").fetchone()[0],
                conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0],
                await saver.aget_tuple(saved) is not None,
            )

    # inline, synchronous=NORMAL (1), autocheckpoint off: the WalCheckpointer thread does it
    assert asyncio.run(run()) == (True, 1, 0, True)


def test_an_environment_switches_sqlite_for_postgres(tmp_path: Path) -> None:
    text = (
        "checkpointer: {sqlite: {path: dev.db}}\nenvironments:\n  prod:\n"
        "    checkpointer: {sqlite: null, postgres: {dsn: !secret PROD_PG_DSN}}\n"
    )
    assert deployment(tmp_path, text).checkpointer.sqlite is not None
    prod = deployment(tmp_path, text, env="prod")
    assert prod.checkpointer.sqlite is None
    assert prod.checkpointer.postgres.dsn == "PROD_PG_DSN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            f"checkpointer:\n  postgres: {{dsn: 'postgresql://u:{PASSWORD}@db/x'}}\n",
            "runwire.yaml:4:14: $.checkpointer.postgres.dsn: expected a secret, such as "
            "`dsn: !secret PG_DSN`",
        ),
        (
            "checkpointer:\n  postgres: {dsn: !secret A}\n  sqlite: {}\n",
            "$.checkpointer: checkpointer takes exactly one of postgres or sqlite",
        ),
        ("checkpointer: {}\n", "checkpointer takes exactly one of postgres or sqlite"),
        (
            "checkpointer:\n  postgres: {dsn: !secret A, min_sise: 2}\n",
            "$.checkpointer.postgres.min_sise: unknown key 'min_sise'\n"
            "  hint: did you mean min_size, max_size?",
        ),
        (
            "checkpointer:\n  postgres: {dsn: !secret A, max_size: 0}\n",
            "$.checkpointer.postgres.max_size: expected a positive integer, got 0",
        ),
        ("checkpointer: postgres\n", "$.checkpointer: expected a mapping with `postgres:`"),
    ],
    ids=["literal-dsn", "both", "neither", "typo", "bad-size", "not-a-mapping"],
)
def test_a_bad_checkpointer_setting_is_a_located_error(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DeploymentError) as caught:
        deployment(tmp_path, text)
    assert message in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)


def test_a_missing_dsn_secret_is_named(tmp_path: Path) -> None:
    dep = deployment(tmp_path, "checkpointer:\n  postgres: {dsn: !secret PG_DSN}\n")
    with (
        pytest.raises(MissingSecretError, match=r"secret PG_DSN .* is not set"),
        open_checkpointer(dep, {}),
    ):
        pass  # pragma: no cover


def test_an_unreachable_database_never_shows_the_dsn(tmp_path: Path, postgres_server: Any) -> None:
    dep = deployment(tmp_path, "checkpointer:\n  postgres: {dsn: !secret PG_DSN, timeout_s: 2}\n")
    dsn = f"postgresql://nobody:{PASSWORD}@127.0.0.1:{postgres_server.port}/missing_db"
    with pytest.raises(ProviderError) as caught, open_checkpointer(dep, {"PG_DSN": dsn}):
        pass  # pragma: no cover
    shown = f"{caught.value} {caught.value!r} {json.dumps(caught.value.to_dict())}"
    assert PASSWORD not in shown and dsn not in shown
    assert "nobody" in shown  # the server's reason is kept: the role does not exist


def test_the_schema_takes_a_secret_dsn_and_refuses_a_literal_one() -> None:
    validator = jsonschema.Draft202012Validator(deployment_json_schema())

    def errors(text: str) -> list[str]:
        data = read_yaml_tree("pipelines: {a: a.yaml}\n" + text, source="t")
        return [e.message for e in validator.iter_errors(json.loads(json.dumps(data)))]

    assert errors("checkpointer: {postgres: {dsn: {_secret: PG_DSN}}}\n") == []  # !secret
    assert errors("checkpointer: {sqlite: {path: t.db}}\n") == []
    assert errors("checkpointer: {postgres: {dsn: 'postgresql://x'}}\n") != []
    assert errors("checkpointer: {}\n") != []
    assert errors("checkpointer: {sqlite: {}, postgres: {dsn: {_secret: A}}}\n") != []
