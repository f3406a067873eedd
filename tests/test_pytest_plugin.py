"""The pytest plugin (entry point ``pytest11``): ``manifest_snapshot`` in a user's test run."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = """
import runwire
from runwire.runtime import FakeChatModel, PromptTemplate

def test_pipeline_file(manifest_snapshot):
    manifest_snapshot("chat.yaml")

def test_pipeline_object(manifest_snapshot):
    manifest_snapshot(PromptTemplate.from_template("{x}") | FakeChatModel(responses=["hi"]))
"""
CHAT = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: "Say {word}"
  - _type: FakeChatModel
    responses: ["${ANSWER:-Hi}"]
"""


def test_manifest_snapshot_fixture_from_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml("")
    pytester.makefile(".yaml", chat=CHAT)
    pytester.makepyfile(test_user=USER_TEST)
    # a fresh interpreter: the plugin must come from the installed entry point
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--snapshot-update")
    first.assert_outcomes(passed=2)
    stored = next(pytester.path.glob("__snapshots__/*.ambr")).read_text()
    assert '"template": "Say {word}"' in stored and "${ANSWER:-Hi}" not in stored
    assert "Hi" in stored  # ${VAR:-default} snapshots its default, whatever the machine has
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    again.assert_outcomes(passed=2)
    pytester.makefile(".yaml", chat=CHAT.replace("Say {word}", "Tell {word}"))
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    changed.assert_outcomes(passed=1, failed=1)
