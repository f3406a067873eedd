"""syrupy snapshots of the config JSON Schemas that configurable runnables expose.

Regenerate after an intended change with ``.venv/bin/python -m pytest
tests/test_configurable_schemas.py --snapshot-update`` and review the diff.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from runwire.runtime.config import RunnableConfig
from runwire.runtime.configurable import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
)
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.serializable import RunnableSerializable


class TunedModel(RunnableSerializable[str, str]):
    """A runnable with typed, described fields (test-local; never registered)."""

    temperature: float = Field(default=0.7, description="Sampling temperature")
    max_tokens: int | None = None
    stop: list[str] = Field(default_factory=list)

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return f"{self.temperature}:{input}"


def single_field() -> Any:
    return TunedModel().configurable_fields(
        temperature=ConfigurableField(id="temperature", name="Temperature"),
        max_tokens=ConfigurableField(
            id="max_tokens", name="Max tokens", description="Longest answer"
        ),
    )


def options() -> Any:
    return TunedModel().configurable_fields(
        temperature=ConfigurableFieldSingleOption(
            id="creativity",
            name="Creativity",
            options={"low": 0.1, "high": 0.9},
            default="low",
        ),
        stop=ConfigurableFieldMultiOption(
            id="stops", options={"newline": "\n", "period": "."}, default=["newline"]
        ),
    )


def alternatives() -> Any:
    return RunnablePassthrough().configurable_alternatives(
        ConfigurableField(id="step", name="Step", description="Which step runs"),
        pick=RunnablePick(keys="a"),
    )


def prefixed_alternatives() -> Any:
    return single_field().configurable_alternatives(
        ConfigurableField(id="llm"),
        default_key="tuned",
        prefix_keys=True,
        cold=TunedModel(temperature=0.0).configurable_fields(
            temperature=ConfigurableField(id="temperature"),
            stop=ConfigurableField(id="stop", is_shared=True),
        ),
    )


def chain() -> Any:
    return RunnablePassthrough() | options() | alternatives()


CASES = {
    "single_field": single_field,
    "options": options,
    "alternatives": alternatives,
    "prefixed_alternatives": prefixed_alternatives,
    "chain": chain,
}


@pytest.mark.parametrize("case", list(CASES))
def test_config_jsonschema(case: str, snapshot: Any) -> None:
    assert CASES[case]().get_config_jsonschema() == snapshot


def test_config_jsonschema_with_included_keys() -> None:
    schema = alternatives().get_config_jsonschema(include=["tags", "run_name"])
    assert set(schema["properties"]) == {"configurable", "tags", "run_name"}
    plain = alternatives().get_config_jsonschema()
    assert schema["$defs"] == plain["$defs"]


def test_config_schema_validates_configurable_values() -> None:
    model = options().config_schema()
    ok = model.model_validate({"configurable": {"creativity": "high", "stops": ["period"]}})
    assert ok.configurable.creativity == "high"
    with pytest.raises(ValueError, match="creativity"):
        model.model_validate({"configurable": {"creativity": "medium"}})
