"""``import runwire`` + ``loads`` of a message history imports what loading messages needs:
not the other schema modules, nor logging or difflib (only a log set-up or an error's
hint needs those). Checked in a fresh interpreter by module name, never by time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runwire

NOT_FOR_A_HISTORY = (
    "logging",
    "difflib",
    "runwire.redaction_logging",
    "runwire.schema.agents",
    "runwire.schema.outputs",
    "runwire.schema.documents",
)


def fresh(tmp_path: Path, script: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_loading_a_history_imports_only_what_it_needs(tmp_path: Path) -> None:
    history = [runwire.SystemMessage("be brief"), runwire.HumanMessage("hi")]
    text = runwire.dumps(history)
    result = fresh(
        tmp_path,
        "import json, sys, runwire\n"
        f"loaded = runwire.loads({text!r})\n"
        f"print(json.dumps({{'loaded': [type(m).__name__ for m in loaded], 'imported': "
        f"sorted(m for m in {NOT_FOR_A_HISTORY!r} if m in sys.modules)}}))\n",
    )
    assert result == {"loaded": ["SystemMessage", "HumanMessage"], "imported": []}


def test_deferred_names_still_resolve(tmp_path: Path) -> None:
    result = fresh(
        tmp_path,
        "import json, logging\n"
        "from runwire.schema import AgentAction, ChatGeneration, Document, dumps, id_table\n"
        "from runwire.schema import messages\n"
        "import runwire.redaction as redaction\n"
        "from runwire.redaction import RedactingFilter, install_log_redaction\n"
        "f = install_log_redaction('x')\n"
        "print(json.dumps({'filter': isinstance(f, RedactingFilter),"
        " 'on_logger': f in logging.getLogger('x').filters,"
        " 'same': redaction.RedactingFilter is RedactingFilter,"
        " 'names': [AgentAction.__name__, ChatGeneration.__name__, Document.__name__,"
        " dumps.__name__, messages.__name__], 'table': bool(id_table)}))\n",
    )
    assert result == {
        "filter": True,
        "on_logger": True,
        "same": True,
        "names": ["AgentAction", "ChatGeneration", "Document", "dumps", "runwire.schema.messages"],
        "table": True,
    }


def test_unknown_names_raise_attribute_error() -> None:
    import runwire.redaction
    import runwire.schema

    with pytest.raises(AttributeError, match="no_such_name"):
        runwire.schema.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_name"):
        runwire.redaction.no_such_name  # noqa: B018
