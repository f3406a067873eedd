"""YAML text to ruamel's round-trip tree, within the loader's :class:`Limits`.

ruamel.yaml parses in pure Python (about 50 µs a node), and YAML aliases let a small text
stand for a huge document, so the composer is bounded as it goes: text size, nodes
parsed, depth, and every alias counted at its full expansion (nodes and bytes of text).
The first node over a limit is a :class:`LimitExceededError` at its ``file:line:column``,
raised before anything is built. Integers outside 64 bits and scalars Python cannot
convert are runwire errors at the node, never a ``ValueError`` from ``int()``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from runwire.errors import LimitExceededError, ManifestError, ManifestSyntaxError, format_path
from runwire.loader.limits import DEFAULT_LIMITS, Limits, int_fits

__all__ = ["Budget", "read_yaml_tree", "text_size"]


def text_size(text: str) -> int:
    """The size of ``text`` in UTF-8 bytes (cheap for ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class Budget:
    """What one load has used of its :class:`Limits` so far, shared by all its files."""

    __slots__ = (
        "_positions",
        "includes",
        "limits",
        "nodes",
        "read",
        "text",
        "yaml_bytes",
        "yaml_nodes",
    )

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or DEFAULT_LIMITS
        self.yaml_bytes = self.yaml_nodes = self.read = self.includes = 0
        self.nodes = self.text = 0  # the composed data: values, and bytes of text
        self._positions: Budget | None = None

    @property
    def positions(self) -> Budget:
        """The budget of parsing JSON files again for error positions: one more load's
        worth of YAML work, however many files an error's location looks into."""
        if self._positions is None:
            self._positions = Budget(self.limits)
        return self._positions


def read_yaml_tree(
    text: str,
    *,
    source: str,
    preserve_quotes: bool = False,
    limits: Limits | None = None,
    budget: Budget | None = None,
) -> Any:
    """Parse YAML text into ruamel's round-trip tree (comments, tags and positions kept).

    Bounded by ``limits`` (or what is left of a load's ``budget``): text size, nodes
    parsed, depth, and aliases at their full expansion; going over is a
    :class:`LimitExceededError` at the node that does, before anything is built.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    budget = budget or Budget(limits)
    budget.yaml_bytes += text_size(text)
    if budget.yaml_bytes > budget.limits.max_yaml_bytes:
        raise LimitExceededError(
            f"more than {budget.limits.max_yaml_bytes} bytes of YAML to parse",
            hint="write large manifests as JSON (parsed natively, up to Limits.max_bytes), "
            "or raise Limits.max_yaml_bytes for trusted files",
            file=source,
        )
    budget.yaml_nodes += len(_COMMENT_LINE.findall(text))  # counted before: cheap
    if budget.yaml_nodes > budget.limits.max_yaml_nodes:
        raise LimitExceededError(
            f"more than {budget.limits.max_yaml_nodes} YAML nodes and comment lines to parse",
            hint="write large manifests as JSON (parsed natively), or raise "
            "Limits.max_yaml_nodes for trusted files",
            file=source,
        )
    reader = YAML(typ="rt", pure=True)
    reader.preserve_quotes = preserve_quotes
    reader.Scanner, reader.Composer, reader.Constructor = _bounded_classes()
    reader.runwire_budget, reader.runwire_source = budget, source
    try:
        return reader.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestSyntaxError(
            f"invalid YAML: {problem}",
            hint="check the indentation and quoting near this position",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except YAMLError as exc:
        raise ManifestSyntaxError(f"invalid YAML: {exc}", file=source) from None
    except RecursionError:  # not expected within max_depth: a safety net
        raise LimitExceededError(
            "YAML nested too deeply to parse", hint="flatten the manifest", file=source
        ) from None


_COMMENT_LINE = re.compile(r"^[ \t]*#", re.MULTILINE)
_MAX_INT_TEXT = 128  # no integer within 64 bits needs more characters, even in binary


@functools.cache
def _bounded_classes() -> tuple[type, type, type]:
    """ruamel's round-trip scanner, composer and constructor within a :class:`Budget`
    (made on first use: ruamel is imported only when YAML is read)."""
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.constructor import RoundTripConstructor
    from ruamel.yaml.events import AliasEvent
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.scanner import RoundTripScanner

    def error(loader: Any, kind: type, message: str, mark: Any, path: Any, hint: str) -> Any:
        where = {"line": mark.line + 1, "column": mark.column + 1} if mark else {}
        file = loader.runwire_source
        return kind(message, path=format_path(path), hint=hint, file=file, **where)

    class BoundedScanner(RoundTripScanner):  # type: ignore[misc]
        """Refuses flow collections (``[``, ``{``) nested deeper than ``max_depth`` as
        it meets them: ruamel's look-ahead for simple keys costs time quadratic in it."""

        def fetch_flow_collection_start(self, token_class: Any, to_push: str) -> None:
            limit = self.loader.runwire_budget.limits.max_depth
            if self.flow_level > limit:
                raise error(
                    self.loader,
                    LimitExceededError,
                    f"nested more than {limit} levels deep",
                    self.reader.get_mark(),
                    (),
                    "flatten the manifest, or raise Limits.max_depth",
                )
            super().fetch_flow_collection_start(token_class, to_push)

    class BoundedComposer(Composer):  # type: ignore[misc]
        """Counts nodes, depth and alias expansions as it composes; fails at the first
        node over a limit (before the rest of the text is even scanned)."""

        def __init__(self, loader: Any = None) -> None:
            super().__init__(loader)
            self.warn_double_anchors = False  # legal YAML; a warning each would flood stderr
            self.budget: Budget = loader.runwire_budget
            self.weights: dict[int, tuple[int, int]] = {}  # anchored node -> its expansion
            self.nodes = self.text = 0  # this document's, aliases expanded
            self.path: list[str | int] = []

        def fail(self, message: str, event: Any, hint: str) -> None:
            raise error(self.loader, LimitExceededError, message, event.start_mark, self.path, hint)

        def compose_node(self, parent: Any, index: Any) -> Any:
            part = index if isinstance(index, int) else getattr(index, "value", None)
            pushed = isinstance(part, int | str)
            if pushed:
                self.path.append(part)
            node = self.bounded(parent, index)
            if pushed:
                self.path.pop()
            return node

        def bounded(self, parent: Any, index: Any) -> Any:
            event, limits = self.parser.peek_event(), self.budget.limits
            self.budget.yaml_nodes += 1
            if self.budget.yaml_nodes > limits.max_yaml_nodes:
                self.fail(
                    f"more than {limits.max_yaml_nodes} YAML nodes and comment lines to parse",
                    event,
                    "write large manifests as JSON (parsed natively), or raise "
                    "Limits.max_yaml_nodes for trusted files",
                )
            if isinstance(event, AliasEvent):
                target = self.anchors.get(event.anchor)
                if target is not None:  # an undefined one is ruamel's error
                    weight = self.weights.get(id(target))
                    if weight is None:
                        self.fail(
                            f"alias *{event.anchor} stands inside the node it names",
                            event,
                            "a manifest is a tree: a node cannot contain itself",
                        )
                    self.expand(event, *weight)  # type: ignore[misc]
                return super().compose_node(parent, index)
            if self.depth > limits.max_depth:
                self.fail(
                    f"nested more than {limits.max_depth} levels deep",
                    event,
                    "flatten the manifest, or raise Limits.max_depth",
                )
            self.expand(event, 1, 0)
            nodes, text = self.nodes, self.text
            node = super().compose_node(parent, index)
            if isinstance(node, ScalarNode):
                self.expand(event, 0, text_size(node.value))
            if event.anchor is not None:
                self.weights[id(node)] = (self.nodes - nodes + 1, self.text - text)
            return node

        def expand(self, event: Any, nodes: int, text: int) -> None:
            self.nodes, self.text, limits = self.nodes + nodes, self.text + text, self.budget.limits
            if self.nodes > limits.max_nodes:
                self.fail(
                    f"more than {limits.max_nodes} nodes once YAML aliases are expanded",
                    event,
                    "alias smaller parts, or raise Limits.max_nodes",
                )
            if self.text > limits.max_bytes:
                self.fail(
                    f"more than {limits.max_bytes} bytes of text once YAML aliases are expanded",
                    event,
                    "alias smaller parts, or raise Limits.max_bytes",
                )

    class BoundedConstructor(RoundTripConstructor):  # type: ignore[misc]
        """Integers outside 64 bits and unreadable scalars are runwire errors at the node."""

        def construct_non_recursive_object(self, node: Any, tag: Any = None) -> Any:
            try:
                return super().construct_non_recursive_object(node, tag)
            except ManifestError:
                raise
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise error(
                    self.loader,
                    ManifestSyntaxError,
                    f"cannot read the value {str(node.value)[:40]!r}: {str(exc)[:200]}",
                    node.start_mark,
                    (),
                    "quote it to keep it as text",
                ) from None

        def construct_yaml_int(self, node: Any) -> Any:
            text = str(node.value)
            value = None if len(text) > _MAX_INT_TEXT else super().construct_yaml_int(node)
            if value is None or not int_fits(int(value)):
                shown = text if len(text) <= 40 else f"of {len(text)} characters"
                raise error(
                    self.loader,
                    LimitExceededError,
                    f"integer {shown} is outside the 64-bit range runwire reads exactly",
                    node.start_mark,
                    (),
                    "quote it as a string if it is an identifier, or write it as a float "
                    "(1.8e19) if an approximation will do",
                )
            return value

    BoundedConstructor.add_constructor(
        "tag:yaml.org,2002:int", BoundedConstructor.construct_yaml_int
    )
    return BoundedScanner, BoundedComposer, BoundedConstructor
