"""syrupy snapshots of the wire form of every registered class, in both dialects.

Regenerate after an intended format change with
``.venv/bin/python -m pytest tests/test_snapshots.py --snapshot-update`` and review the
diff of ``__snapshots__/test_snapshots.ambr``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import runwire
from conftest import FAKE_SECRET, KeyedProbe, Probe, sample
from runwire.loader.registry import allowed_ids
from runwire.schema.ids import id_table

allowed_ids("all")
ENTRY_NAMES = [entry.name for entry in id_table.entries]
DIALECTS = ["runwire", "langchain"]
SNAPSHOT_DIR = Path(__file__).parent / "__snapshots__"
SECRET_NODE = {"lc": 1, "type": "secret", "id": ["API_KEY"]}


def wire(obj: Any, dialect: str) -> str:
    text = runwire.dumps(obj, pretty=True, sort_keys=True, dialect=dialect)
    assert FAKE_SECRET not in text
    return text


def find_secret_nodes(value: Any) -> list[dict[str, Any]]:
    """Every secret node in parsed JSON (escaped user data is skipped)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if value.get("lc") == 1 and value.get("type") == "secret":
            return [value]
        if list(value) != ["__lc_escaped__"]:
            for item in value.values():
                found += find_secret_nodes(item)
    elif isinstance(value, list):
        for item in value:
            found += find_secret_nodes(item)
    return found


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", ENTRY_NAMES)
def test_wire_form(name: str, dialect: str, snapshot: Any) -> None:
    assert wire(sample(name), dialect) == snapshot


@pytest.mark.parametrize("dialect", DIALECTS)
def test_secret_field_is_a_secret_node(dialect: str, registered: list[str], snapshot: Any) -> None:
    text = wire(KeyedProbe(api_key=SecretStr(FAKE_SECRET)), dialect)
    assert find_secret_nodes(json.loads(text)) == [SECRET_NODE]
    assert json.loads(text)["kwargs"]["api_key"] == SECRET_NODE
    assert text == snapshot


@pytest.mark.parametrize("dialect", DIALECTS)
def test_secrets_nested_in_objects_and_data_never_leak(
    dialect: str, registered: list[str], snapshot: Any
) -> None:
    """A keyed object inside a payload, and a bare SecretStr in user data."""
    obj = Probe(
        payload=[
            KeyedProbe(api_key=SecretStr(FAKE_SECRET)),
            runwire.HumanMessage("hi", additional_kwargs={"key": SecretStr(FAKE_SECRET)}),
        ],
        token=SecretStr(FAKE_SECRET),
    )
    text = wire(obj, dialect)
    data = json.loads(text)
    assert data["kwargs"]["token"] == {"lc": 1, "type": "secret", "id": ["TOKEN"]}
    assert find_secret_nodes(data) == [SECRET_NODE, {"lc": 1, "type": "secret", "id": ["TOKEN"]}]
    bare = data["kwargs"]["payload"][1]["kwargs"]["additional_kwargs"]["key"]
    assert bare["type"] == "not_implemented"
    assert bare["id"] == ["pydantic", "types", "SecretStr"]
    assert text == snapshot


def test_no_snapshot_file_contains_a_secret_value() -> None:
    """Runs over the stored files, so a secret written by any snapshot test is caught."""
    files = sorted(SNAPSHOT_DIR.glob("*.ambr"))
    if not files:
        pytest.skip("no snapshots yet: run once with --snapshot-update")
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    assert '"type": "secret"' in text  # the secret tests above were snapshotted
    assert FAKE_SECRET not in text
    assert "DEADBEEF" not in text
