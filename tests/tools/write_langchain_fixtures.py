"""Write the interop fixtures: files real LangChain wrote, with LangChain's own outputs.

Run by hand (needs the ``bench`` extra: langchain-core and langchain-aws), never by the
test suite::

    .venv/bin/python tests/tools/write_langchain_fixtures.py

For every case (``langchain_cases.py``) it builds the object with LangChain, writes it
with ``langchain_core.load.dumps``, loads that text back with LangChain's own ``loads``,
runs the probes on LangChain's loaded object and writes
``tests/fixtures/langchain/generated/cases/<name>.json``::

    {"name", "class_path", "secrets_map", "text", "probes": [...]}

A file LangChain writes but cannot load itself is not an interop fixture; it goes to
``generated/refused/<name>.json`` with ``"langchain_error"`` (probes run on the object
LangChain wrote), so the tests can say what runwire does with it.

``text`` is the exact text LangChain wrote. A probe is a method call
(``{"call": "invoke", "args": [...], "kwargs": {...}, "output": ...}``) or an attribute
(``{"attr": "content", "output": ...}``); arguments and outputs are LangChain's
``dumpd`` forms, so the test side needs no LangChain. ``mapping.json`` beside the cases
lists every id of ``langchain_core.load.mapping``'s tables and of langchain-aws's
serializable classes with its class path, whether LangChain can import it (``status``:
class, abstract, not importable...) and where the class is defined (``resolved``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import operator
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from langchain_cases import Probe, cases  # the script's own directory is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bedrock_stubs import stubbed

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "langchain" / "generated"
RUN_ID = re.compile(r"(\"lc_run--)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A run id's random uuid, which the fixtures keep as ``lc_run--<uuid>`` (stable files)."""
MAPPING_TABLES = (
    "SERIALIZABLE_MAPPING",
    "_OG_SERIALIZABLE_MAPPING",
    "OLD_CORE_NAMESPACES_MAPPING",
    "_JS_SERIALIZABLE_MAPPING",
)


def _class_path(obj: Any) -> str:
    return _class_path_of(type(obj))


def _run(obj: Any, probe: Probe) -> dict[str, Any]:
    from langchain_core.load import dumpd

    if probe.attr is not None:
        return {"attr": probe.attr, "output": dumpd(getattr(obj, probe.attr))}
    record: dict[str, Any] = {"call": probe.call}
    if probe.args:
        record["args"] = dumpd(list(probe.args))
    if probe.kwargs:
        record["kwargs"] = dumpd(probe.kwargs)
    if probe.bedrock is None:
        record["output"] = dumpd(getattr(obj, probe.call)(*probe.args, **probe.kwargs))
    else:
        out, request = _with_bedrock(obj, probe)
        record["bedrock"] = probe.bedrock
        record["request"] = request
        text = RUN_ID.sub(r"\1<uuid>", json.dumps(dumpd(out)))  # the random part: by form
        record["output"] = json.loads(text)
        if probe.call == "stream":  # the chunks added up, as a caller sees the answer
            total = functools.reduce(operator.add, out)
            record["total"] = json.loads(RUN_ID.sub(r"\1<uuid>", json.dumps(dumpd(total))))
    return record


def _with_bedrock(obj: Any, probe: Probe) -> tuple[Any, dict[str, Any]]:
    """Run the probe with the model's client stubbed; (output, request parameters)."""
    with stubbed(getattr(obj, "bound", obj).client, probe.bedrock) as sent:
        out = getattr(obj, probe.call)(*probe.args, **probe.kwargs)
        if probe.call == "stream":
            out = list(out)
    return out, sent


def write_cases(out: Path, refused_out: Path) -> tuple[list[str], dict[str, str]]:
    """Write one fixture per case; returns (written, refused).

    A file LangChain loads back goes to ``out`` with the probes run on LangChain's loaded
    object. A file LangChain writes but cannot load goes to ``refused_out`` with
    LangChain's error, its probes run on the object LangChain wrote.
    """
    from langchain_core.load import dumps, loads

    out.mkdir(parents=True, exist_ok=True)
    refused_out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    refused: dict[str, str] = {}
    for case in cases():
        built = case.build()
        text = dumps(built)
        error = None
        try:
            obj = loads(text, secrets_map=case.secrets_map, allowed_objects="all")
        except Exception as exc:
            error = refused[case.name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            obj = built
        record = {
            "name": case.name,
            "class_path": _class_path(obj),
            "secrets_map": case.secrets_map,
            "text": text,
            "probes": [_run(obj, p) for p in case.probes],
        }
        if error is not None:
            record["langchain_error"] = error
        path = (refused_out if error else out) / f"{case.name}.json"
        path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if error is None:
            written.append(case.name)
    return written, refused


ABSTRACT = frozenset({"PromptValue", "DynamicRunnable", "StringPromptTemplate"})
"""Mapped classes that are bases LangChain never instantiates (besides ``Base*``)."""


def _importable(path: tuple[str, ...]) -> tuple[str, str | None]:
    """(status, the class's own module path) of a mapping target.

    status is ``class``, ``abstract``, ``not a class`` or why it is ``not importable``.
    """
    try:
        module = importlib.import_module(".".join(path[:-1]))
        cls = getattr(module, path[-1])
    except Exception as exc:
        return f"not importable: {type(exc).__name__}", None
    if not inspect.isclass(cls):
        return "not a class", None
    abstract = inspect.isabstract(cls) or path[-1].startswith("Base") or path[-1] in ABSTRACT
    return ("abstract" if abstract else "class"), _class_path_of(cls)


def _class_path_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _aws_classes() -> dict[tuple[str, ...], str]:
    """lc id -> class path of every serializable class langchain-aws defines."""
    import langchain_aws
    from langchain_core.load.serializable import Serializable

    found: dict[tuple[str, ...], str] = {}
    for info in pkgutil.walk_packages(langchain_aws.__path__, "langchain_aws."):
        try:
            module = importlib.import_module(info.name)
        except Exception:
            continue
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, Serializable)
                and value.__module__ == module.__name__
                and value.is_lc_serializable()
            ):
                found[tuple(value.lc_id())] = f"{value.__module__}.{value.__qualname__}"
    return dict(sorted(found.items()))


def write_mapping(out: Path) -> int:
    """Write ``mapping.json``: every id LangChain maps, with its class path and status."""
    from langchain_core.load import mapping

    rows = []
    targets = [(t, i, ".".join(p)) for t in MAPPING_TABLES for i, p in getattr(mapping, t).items()]
    targets += [("langchain_aws", i, p) for i, p in _aws_classes().items()]
    for table, ident, path in targets:
        status, resolved = _importable(tuple(path.split(".")))
        row = {"table": table, "id": list(ident), "class_path": path, "status": status}
        if resolved is not None:
            row["resolved"] = resolved  # where the class is defined (mapped paths may alias)
        rows.append(row)
    (out / "mapping.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return len(rows)


def main() -> int:
    for key in [k for k in os.environ if k.startswith(("AWS_", "BEDROCK_"))]:
        del os.environ[key]  # LangChain reads credentials from the environment: keep files clean
    for folder in (OUT / "cases", OUT / "refused"):
        if folder.exists():
            shutil.rmtree(folder)
    written, refused = write_cases(OUT / "cases", OUT / "refused")
    rows = write_mapping(OUT)
    print(f"wrote {len(written)} fixtures and {rows} mapping rows to {OUT}")
    for name, why in refused.items():
        print(f"  refused/{name}.json: LangChain cannot load its own file: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
