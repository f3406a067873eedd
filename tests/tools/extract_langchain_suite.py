"""Extract every serialized lc object from langchain-core's (and langchain-aws's) unit tests.

Run by hand (needs the ``bench`` extra: langchain-core), never by the test suite::

    .venv/bin/pip download --no-deps --no-binary :all: langchain-core==1.8.3 -d /tmp/lcsd
    tar xzf /tmp/lcsd/langchain_core-1.8.3.tar.gz -C /tmp/lcsd
    .venv/bin/pip download --no-deps --no-binary :all: langchain-aws==1.9.1 -d /tmp/lcsd
    tar xzf /tmp/lcsd/langchain_aws-1.9.1.tar.gz -C /tmp/lcsd
    .venv/bin/python tests/tools/extract_langchain_suite.py \\
        /tmp/lcsd/langchain_core-1.8.3 /tmp/lcsd/langchain_aws-1.9.1

It reads the literal lc dicts of ``tests/unit_tests/{load,prompts,messages}/*.py`` and
``tests/unit_tests/test_messages.py`` (module-level
constants they name are resolved; anything else that is not a literal is skipped) and
the syrupy snapshots of ``tests/unit_tests/{prompts,runnables}/__snapshots__/*.ambr``
(amber reprs and JSON strings), keeps the outermost lc nodes (``"lc": 1`` with a
``type``); from langchain-aws's sdist (the optional second argument) its syrupy
snapshots (``tests/unit_tests/**/__snapshots__``: the standard tests' ``test_serdes``).
It writes one ``tests/fixtures/langchain_suite/<area>-<file>-<test>-<n>.json``
each::

    {"source", "test", "data", "langchain_loads", "langchain_error", "probes": [...]}

``langchain_loads`` says whether ``langchain_core.load.load(data, allowed_objects="all")``
accepts it; for those that load, ``probes`` record what LangChain's object does (the
``format``/``invoke`` output of prompts with placeholder inputs, the fields of
messages) in the generator's probe format, and ``{"dump": "langchain", "output": ...}``:
LangChain's own ``dumpd`` of the object it loaded.
"""

from __future__ import annotations

import ast
import contextlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "langchain_suite"
PY_SOURCES = (
    "tests/unit_tests/load/*.py",
    "tests/unit_tests/prompts/*.py",
    "tests/unit_tests/messages/*.py",
    "tests/unit_tests/test_messages.py",
)
SNAPSHOT_SOURCES = (
    "tests/unit_tests/prompts/__snapshots__/*.ambr",
    "tests/unit_tests/runnables/__snapshots__/*.ambr",
)


class NotLiteral(Exception):
    """An expression that is not data (a call, an attribute, an unknown name)."""


def is_lc_node(value: Any) -> bool:
    return isinstance(value, dict) and value.get("lc") == 1 and "type" in value and "id" in value


def outermost_nodes(value: Any) -> list[Any]:
    """The lc nodes in ``value`` that are not inside another lc node."""
    if is_lc_node(value):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in outermost_nodes(v)]
    if isinstance(value, list):
        return [n for v in value for n in outermost_nodes(v)]
    return []


# python test modules ----------------------------------------------------------------


def literal(node: ast.AST, names: dict[str, Any]) -> Any:
    """The value of a literal expression; ``names`` resolves module-level constants."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("dict unpacking")
        pairs = zip(node.keys, node.values, strict=True)
        return {literal(k, names): literal(v, names) for k, v in pairs}  # type: ignore[arg-type]
    if isinstance(node, ast.List | ast.Tuple):
        return [literal(e, names) for e in node.elts]
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -literal(node.operand, names)
    raise NotLiteral(type(node).__name__)


def module_constants(tree: ast.Module) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for stmt in tree.body:
        target = value = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        if isinstance(target, ast.Name) and value is not None:
            with contextlib.suppress(NotLiteral):  # constants that are not data stay unnamed
                names[target.id] = literal(value, names)
    return names


def _dict_has_lc(node: ast.Dict) -> bool:
    return any(isinstance(k, ast.Constant) and k.value == "lc" for k in node.keys if k is not None)


def from_python(path: Path) -> list[tuple[str, int, Any]]:
    """(test name, line, lc node) of every outermost literal lc dict in a test module."""
    tree = ast.parse(path.read_text("utf-8"))
    names = module_constants(tree)
    found: list[tuple[str, int, Any]] = []

    def visit(node: ast.AST, test: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            test = node.name
        if isinstance(node, ast.Dict) and _dict_has_lc(node):
            try:
                value = literal(node, names)
            except NotLiteral:
                value = None
            if value is not None and is_lc_node(value):
                found.append((test, node.lineno, value))
                return
        for child in ast.iter_child_nodes(node):
            visit(child, test)

    visit(tree, "module")
    return found


# syrupy amber snapshots --------------------------------------------------------------


def _amber_value(node: ast.AST) -> Any:
    """Amber's ``dict({...})`` / ``list([...])`` reprs as plain data."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        if node.func.id in {"dict", "list", "tuple", "set"} and not node.keywords:
            return _amber_value(node.args[0])
        raise NotLiteral(node.func.id)
    if isinstance(node, ast.Dict):
        pairs = zip(node.keys, node.values, strict=True)
        return {_amber_value(k): _amber_value(v) for k, v in pairs}  # type: ignore[arg-type]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_amber_value(e) for e in node.elts]
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str) and value.startswith("\n") and "\n" in value[1:]:
            body, _, indent = value[1:].rpartition("\n")  # amber's ''' block string
            if not indent.strip():
                return textwrap.dedent(body)
        return value
    raise NotLiteral(type(node).__name__)


def parse_amber(body: str) -> Any:
    """One snapshot's text (indented two spaces) as data."""
    text = textwrap.dedent(body).strip("\n")
    if text.startswith("'''"):
        inner = textwrap.dedent(text[3:].rsplit("'''", 1)[0]).strip("\n")
        try:
            return json.loads(inner)
        except json.JSONDecodeError as exc:
            raise NotLiteral("string snapshot that is not JSON") from exc
    return _amber_value(ast.parse(text, mode="eval").body)


def from_amber(path: Path) -> list[tuple[str, int, Any]]:
    found: list[tuple[str, int, Any]] = []
    name, start, lines = "", 0, []  # type: ignore[var-annotated]
    for number, line in enumerate([*path.read_text("utf-8").splitlines(), "# ---"], 1):
        if line.startswith("# name: "):
            name, start, lines = line[len("# name: ") :], number, []
        elif line == "# ---":
            if name and any("lc" in x for x in lines):
                try:
                    value = parse_amber("\n".join(lines))
                except (NotLiteral, SyntaxError):
                    value = None
                found += [(name, start, n) for n in outermost_nodes(value)]
            name = ""
        elif name:
            lines.append(line)
    return found


# LangChain's behaviour -----------------------------------------------------------------


def _placeholder_inputs(prompt: Any) -> dict[str, Any]:
    from langchain_core.messages import HumanMessage
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

    lists = set()
    if isinstance(prompt, ChatPromptTemplate):
        lists = {m.variable_name for m in prompt.messages if isinstance(m, MessagesPlaceholder)}
    return {v: [HumanMessage(f"<{v}>")] if v in lists else f"<{v}>" for v in prompt.input_variables}


def probes(obj: Any) -> list[dict[str, Any]]:
    """What LangChain's loaded object does, as the generator's probes."""
    from langchain_core.load import dumpd
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import BasePromptTemplate

    found: list[dict[str, Any]] = [{"dump": "langchain", "output": dumpd(obj)}]
    if isinstance(obj, BaseMessage):
        for attr in ("type", "content", "text", "id", "name", "additional_kwargs"):
            found.append({"attr": attr, "output": dumpd(getattr(obj, attr))})
    if isinstance(obj, BasePromptTemplate):
        inputs = _placeholder_inputs(obj)
        for call in ("format", "invoke"):
            try:
                if call == "format":
                    out = obj.format(**inputs)
                    found.append({"call": call, "kwargs": dumpd(inputs), "output": dumpd(out)})
                else:
                    out = obj.invoke(inputs)
                    found.append({"call": call, "args": dumpd([inputs]), "output": dumpd(out)})
            except Exception:  # some prompts need real inputs: that probe is left out
                continue
    return found


def record(source: str, test: str, data: Any) -> dict[str, Any]:
    from langchain_core.load import load

    try:
        obj = load(data, allowed_objects="all")
    except Exception as exc:
        return {
            "source": source,
            "test": test,
            "data": data,
            "langchain_loads": False,
            "langchain_error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "probes": [],
        }
    return {
        "source": source,
        "test": test,
        "data": data,
        "langchain_loads": True,
        "langchain_error": None,
        "probes": probes(obj),
    }


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in text).strip("_")[:80]


AWS_PREFIX = "langchain-aws/"
"""Sources from langchain-aws's sdist are named with this prefix."""
AWS_SNAPSHOT_SOURCES = ("tests/unit_tests/**/__snapshots__/*.ambr",)


def _area(source: str) -> str:
    """The test folder of a source (``load``, ``prompts``...; ``core`` for top-level files),
    ``aws_<folder>`` for langchain-aws's."""
    path = source.removeprefix(AWS_PREFIX)
    folders = [p for p in Path(path).parent.parts if p not in {"tests", "__snapshots__"}]
    area = "core" if folders[-1] == "unit_tests" else folders[-1]
    return f"aws_{area}" if source.startswith(AWS_PREFIX) else area


def _sources(root: Path, prefix: str, py: tuple[str, ...], snapshots: tuple[str, ...]) -> Any:
    """(source, line, test, lc node) of every object under one sdist's tests."""
    for patterns, extract in ((py, from_python), (snapshots, from_amber)):
        for path in sorted({p for pattern in patterns for p in root.glob(pattern)}):
            source = prefix + path.relative_to(root).as_posix()
            for test, line, node in extract(path):
                yield source, line, test, node


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__)
        return 2
    found = list(_sources(Path(argv[1]), "", PY_SOURCES, SNAPSHOT_SOURCES))
    if len(argv) == 3:
        found += _sources(Path(argv[2]), AWS_PREFIX, (), AWS_SNAPSHOT_SOURCES)
    if OUT.exists():
        for old in OUT.glob("*.json"):
            old.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    loads = 0
    for source, line, test, node in found:
        stem = f"{_area(source)}-{_slug(Path(source).stem)}-{_slug(test)}"
        counts[stem] = counts.get(stem, 0) + 1
        rec = record(f"{source}:{line}", test, node)
        loads += rec["langchain_loads"]
        path = OUT / f"{stem}-{counts[stem]}.json"
        path.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(found)} objects ({loads} load in LangChain) to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
