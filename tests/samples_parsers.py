"""Samples of the issue-15 classes of one area, merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.models.structured import RunnableWithStructuredOutput
from runwire.runtime.parsers_lists import MarkdownListOutputParser, NumberedListOutputParser
from runwire.runtime.parsers_tools import (
    JsonOutputKeyToolsParser,
    JsonOutputToolsParser,
    PydanticToolsParser,
)
from runwire.runtime.parsers_xml import XMLOutputParser

PERSON_SCHEMA: dict[str, Any] = {
    "title": "Person",
    "description": "Someone mentioned in the text.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Z]"},
        "age": {"type": "integer", "minimum": 0},
    },
    "required": ["name", "age"],
}
"""A tool / structured-output schema as a file holds it (JSON Schema titled with its name)."""

SAMPLES: dict[str, Callable[[], Any]] = {
    "NumberedListOutputParser": lambda: NumberedListOutputParser(pattern=r"\d+\)\s([^\n]+)"),
    "MarkdownListOutputParser": MarkdownListOutputParser,
    "XMLOutputParser": lambda: XMLOutputParser(tags=["people", "person"], parser="xml"),
    "JsonOutputToolsParser": lambda: JsonOutputToolsParser(return_id=True, strict=True),
    "JsonOutputKeyToolsParser": lambda: JsonOutputKeyToolsParser(
        key_name="Person", first_tool_only=True
    ),
    "PydanticToolsParser": lambda: PydanticToolsParser(tools=[PERSON_SCHEMA]),
    "RunnableWithStructuredOutput": lambda: RunnableWithStructuredOutput(
        model=FakeChatModel(usage=True),
        json_schema=PERSON_SCHEMA,
        method="json_schema",
        include_raw=True,
        strict=True,
        check_schema=True,
    ),
}
