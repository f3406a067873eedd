"""``XMLOutputParser``: XML in model output to nested dicts, hardened for untrusted text.

Outputs, errors and streaming are LangChain's: ``parse`` reads the XML (inside a
```xml fence if there is one, after an ``encoding`` declaration) into ``{tag: text}``
for an element with text, else ``{tag: [child, ...]}``; streaming yields every leaf as
it closes, nested in its path (``{"root": [{"leaf": "text"}]}``), stops at the end of
the first root element and ignores what follows it.

Model output is untrusted, so runwire never parses it with the standard library's
defaults. Both ``parser`` values ("defusedxml", "xml") use one expat parser with
defusedxml's default refusals, without needing defusedxml installed:

- entity declarations (internal or external, general or parameter) and unparsed
  entity declarations are refused, so nothing expands ("billion laughs") and no
  external entity is ever resolved; a DOCTYPE without them is accepted, and its external
  subset is never read (parameter entity parsing is off), so no file or URL is opened;
- input is bounded to :data:`MAX_XML_CHARS` characters and :data:`MAX_XML_DEPTH`
  nested elements.
A refused document raises ``OutputParserException`` (defusedxml raises its own
``EntitiesForbidden``; LangChain's streaming raises expat's ``ParseError``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal
from xml.parsers import expat

from runwire.runtime.parsers import BaseTransformOutputParser, OutputParserException, _StreamState
from runwire.runtime.tracing import AddableDict

__all__ = ["MAX_XML_CHARS", "MAX_XML_DEPTH", "XMLOutputParser"]

MAX_XML_CHARS = 2_000_000
"""Most characters of XML one parse (or one stream) reads."""
MAX_XML_DEPTH = 200
"""Most nested elements."""

XML_FORMAT_INSTRUCTIONS = """The output should be formatted as a XML file.
1. Output should conform to the tags below.
2. If tags are not given, make them on your own.
3. Remember to always open and close all the tags.

As an example, for the tags ["foo", "bar", "baz"]:
1. String "<foo>\n   <bar>\n      <baz></baz>\n   </bar>\n</foo>" is a well-formatted instance of the schema.
2. String "<foo>\n   <bar>\n   </foo>" is a badly-formatted instance.
3. String "<foo>\n   <tag>\n   </tag>\n</foo>" is a badly-formatted instance.

Here are the output tags:
```
{tags}
```"""  # noqa: E501

_FENCE = re.compile(r"```(xml)?(.*)```", re.DOTALL)
_XML_START = re.compile(r"<[a-zA-Z:_]")
_NON_SPACE = re.compile(r"\S")


class _Refused(ValueError):
    """The document uses something runwire does not parse (entities, too deep, too big)."""


class _Element:
    __slots__ = ("children", "tag", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.text: str | None = None
        self.children: list[_Element] = []


def _tag(name: str) -> str:
    """ElementTree's form of a namespaced name: ``{uri}local``."""
    return "{" + name if "}" in name else name


class _Tree:
    """One expat parse: builds elements and records ``start``/``end`` events as they come."""

    def __init__(self) -> None:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.EntityDeclHandler = self._entity
        parser.UnparsedEntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external
        parser.SkippedEntityHandler = self._skipped
        self.parser = parser
        self.stack: list[_Element] = []
        self.root: _Element | None = None
        self.events: list[tuple[str, _Element]] = []
        self.size = 0

    def _start(self, name: str, attributes: Any) -> None:
        if len(self.stack) >= MAX_XML_DEPTH:
            raise _Refused(f"elements are nested more than {MAX_XML_DEPTH} deep")
        element = _Element(_tag(name))
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)
        self.events.append(("start", element))

    def _end(self, name: str) -> None:
        self.events.append(("end", self.stack.pop()))

    def _data(self, text: str) -> None:
        if self.stack:
            element = self.stack[-1]
            if not element.children:  # text after a child is its tail: not kept
                element.text = text if element.text is None else element.text + text

    def _entity(self, name: str, *args: Any) -> None:
        raise _Refused(f"entity declarations are not allowed (entity {name!r})")

    def _external(self, *args: Any) -> int:
        raise _Refused("external entities are not allowed")

    def _skipped(self, name: str, is_parameter_entity: bool) -> None:
        # a reference expat cannot expand (declared, if at all, in an external subset that
        # is never read): an error, worded as ElementTree words it
        parser = self.parser
        raise expat.ExpatError(
            f"undefined entity &{name};: line {parser.CurrentLineNumber}, "
            f"column {parser.CurrentColumnNumber}"
        )

    def feed(self, text: str, final: bool = False) -> None:
        """Parse more text; raises ``expat.ExpatError`` or ``_Refused``."""
        self.size += len(text)
        if self.size > MAX_XML_CHARS:
            raise _Refused(f"the XML is longer than {MAX_XML_CHARS} characters")
        self.parser.Parse(text, final)


def _after_encoding_declaration(text: str) -> str | None:
    """The text after a ``<...encoding...>`` tag and its newline, or ``None``.

    LangChain's ``<([^>]*encoding[^>]*)>\\n(.*)`` search, in linear time: every ``<``
    before the same ``>`` shares that ``>``, so only the first of them needs a look.
    """
    start = text.find("<")
    while start != -1:
        end = text.find(">", start)
        if end == -1:
            return None
        if "encoding" in text[start + 1 : end] and text.startswith("\n", end + 1):
            return text[end + 2 :]
        start = text.find("<", end + 1)
    return None


def _to_dict(element: _Element) -> dict[str, Any]:
    if element.text and _NON_SPACE.search(element.text):
        return {element.tag: element.text}
    children: list[Any] = []
    for child in element.children:
        if not child.children:
            children.append({child.tag: child.text})
        else:
            children.append(_to_dict(child))
    return {element.tag: children}


def _nested(path: list[str], element: _Element) -> AddableDict:
    value = AddableDict({element.tag: element.text})
    for tag in reversed(path):
        value = AddableDict({tag: [value]})
    return value


class _XMLStream(_StreamState):
    """LangChain's streaming XML parser (``_StreamingParser``) over the hardened tree."""

    def __init__(self) -> None:
        self.tree = _Tree()
        self.path: list[str] = []
        self.path_has_children = False
        self.buffer = ""
        self.started = False
        self.broken = False

    def feed(self, text: str) -> Iterable[Any]:
        if self.broken:  # after an error outside any element, the rest is junk
            return ()
        self.buffer += text
        if not self.started:
            match = _XML_START.search(self.buffer)
            if match is None:  # text before the XML is dropped: keep what a start needs
                self.buffer = self.buffer[-1:]
                return ()
            self.buffer = self.buffer[match.start() :]
            self.started = True
        data, self.buffer = self.buffer, ""
        error: Exception | None = None
        try:
            self.tree.feed(data)
        except (expat.ExpatError, _Refused) as exc:
            error = exc
        events, self.tree.events = self.tree.events, []
        outputs = list(self._outputs(events))
        if error is not None:
            if self.path or isinstance(error, _Refused):
                raise OutputParserException(
                    f"Failed to parse XML format from streamed completion. Got: {error}"
                ) from None
            self.broken = True
        return outputs

    def _outputs(self, events: list[tuple[str, _Element]]) -> Iterable[AddableDict]:
        for event, element in events:
            if event == "start":
                self.path.append(element.tag)
                self.path_has_children = False
                continue
            self.path.pop()
            if not self.path_has_children:
                yield _nested(self.path, element)
            if self.path:
                self.path_has_children = True
            else:
                self.started = False


class XMLOutputParser(BaseTransformOutputParser):
    """XML to nested dicts: ``<a><b>1</b></a>`` to ``{"a": [{"b": "1"}]}``.

    Streaming yields each leaf as it closes, inside its path. See the module docstring
    for what is refused in untrusted XML.
    """

    tags: list[str] | None = None
    """Tags the format instructions ask for (not enforced)."""
    parser: Literal["defusedxml", "xml"] = "defusedxml"
    """LangChain's choice of parser; in runwire both are the same hardened parser."""

    lc_data_fields = frozenset({"tags"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def OutputType(self) -> Any:
        return dict[str, Any]

    def get_format_instructions(self) -> str:
        return XML_FORMAT_INSTRUCTIONS.format(tags=self.tags)

    def parse(self, text: str) -> dict[str, Any]:
        if len(text) > MAX_XML_CHARS:
            raise OutputParserException(
                f"Failed to parse XML format: the completion is longer than {MAX_XML_CHARS} "
                "characters"
            )
        match = _FENCE.search(text)
        if match is not None:
            text = match.group(2)
        rest = _after_encoding_declaration(text)
        if rest is not None:
            text = rest
        text = text.strip()
        tree = _Tree()
        try:
            tree.feed(text, final=True)
        except (expat.ExpatError, _Refused) as exc:
            raise OutputParserException(
                f"Failed to parse XML format from completion {text}. Got: {exc}",
                llm_output=text,
            ) from None
        assert tree.root is not None  # expat refuses a document without an element
        return _to_dict(tree.root)

    def _stream_state(self) -> _StreamState:
        return _XMLStream()
