"""The graph behind the Neptune emulator: an embedded openCypher engine (ladybug, the
maintained Kuzu fork) loaded with a small movie/company graph, and its results in the
JSON Neptune's openCypher endpoint answers with.

Nodes come back as ``{"~id", "~entityType": "node", "~labels", "~properties"}``,
relationships as ``{"~id", "~entityType": "relationship", "~start", "~end", "~type",
"~properties"}``. ``type(r)`` and ``labels(n)`` (Neptune's functions) are macros over
the engine's ``label()``. Queries run one at a time.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["FIXTURE", "GraphEngine", "QueryError"]

SCHEMA = (
    "CREATE NODE TABLE Person(name STRING PRIMARY KEY, born INT64)",
    "CREATE NODE TABLE Movie(title STRING PRIMARY KEY, released INT64, genre STRING)",
    "CREATE NODE TABLE Company(name STRING PRIMARY KEY, founded INT64, city STRING)",
    "CREATE REL TABLE ACTED_IN(FROM Person TO Movie, role STRING)",
    "CREATE REL TABLE DIRECTED(FROM Person TO Movie)",
    "CREATE REL TABLE PRODUCED(FROM Company TO Movie)",
    "CREATE REL TABLE WORKS_AT(FROM Person TO Company, since INT64)",
    "CREATE MACRO type(x) AS label(x)",
)
FIXTURE: dict[str, list[dict[str, Any]]] = {
    "Person": [
        {"name": "Keanu Reeves", "born": 1964},
        {"name": "Carrie-Anne Moss", "born": 1967},
        {"name": "Lana Wachowski", "born": 1965},
        {"name": "Greta Gerwig", "born": 1983},
        {"name": "Saoirse Ronan", "born": 1994},
    ],
    "Movie": [
        {"title": "The Matrix", "released": 1999, "genre": "science fiction"},
        {"title": "The Matrix Reloaded", "released": 2003, "genre": "science fiction"},
        {"title": "Lady Bird", "released": 2017, "genre": "drama"},
        {"title": "Little Women", "released": 2019, "genre": "drama"},
    ],
    "Company": [
        {"name": "Warner Bros.", "founded": 1923, "city": "Burbank"},
        {"name": "A24", "founded": 2012, "city": "New York"},
    ],
}
"""Nodes by label (the keys' first property is the primary key)."""
ENDS: dict[str, tuple[str, str]] = {
    "ACTED_IN": ("Person", "Movie"),
    "DIRECTED": ("Person", "Movie"),
    "PRODUCED": ("Company", "Movie"),
    "WORKS_AT": ("Person", "Company"),
}
"""Relationship type -> (from label, to label)."""
KEYS = {"Person": "name", "Company": "name", "Movie": "title"}
"""Label -> its primary key property."""
EDGES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("ACTED_IN", "Keanu Reeves", "The Matrix", {"role": "Neo"}),
    ("ACTED_IN", "Keanu Reeves", "The Matrix Reloaded", {"role": "Neo"}),
    ("ACTED_IN", "Carrie-Anne Moss", "The Matrix", {"role": "Trinity"}),
    ("ACTED_IN", "Saoirse Ronan", "Lady Bird", {"role": "Christine"}),
    ("ACTED_IN", "Saoirse Ronan", "Little Women", {"role": "Jo"}),
    ("DIRECTED", "Lana Wachowski", "The Matrix", {}),
    ("DIRECTED", "Greta Gerwig", "Lady Bird", {}),
    ("DIRECTED", "Greta Gerwig", "Little Women", {}),
    ("PRODUCED", "Warner Bros.", "The Matrix", {}),
    ("PRODUCED", "A24", "Lady Bird", {}),
    ("WORKS_AT", "Lana Wachowski", "Warner Bros.", {"since": 1996}),
)
"""(type, from key, to key, properties)."""
MAX_ROWS = 10_000


class QueryError(Exception):
    """The engine refused a query (Neptune's ``MalformedQueryException``)."""


class GraphEngine:
    """An in-memory graph loaded with :data:`FIXTURE`, queried with openCypher."""

    def __init__(self) -> None:
        import ladybug

        self._db = ladybug.Database(":memory:")
        self._conn = ladybug.Connection(self._db)
        self._lock = threading.Lock()
        for statement in SCHEMA:
            self._conn.execute(statement)
        for label, rows in FIXTURE.items():
            for row in rows:
                fields = ", ".join(f"{k}: ${k}" for k in row)
                self._conn.execute(f"CREATE (:{label} {{{fields}}})", row)
        for kind, a_key, b_key, props in EDGES:
            a_label, b_label = ENDS[kind]
            fields = ", ".join(f"{k}: ${k}" for k in props)
            self._conn.execute(
                f"MATCH (a:{a_label} {{{KEYS[a_label]}: $a}}), "
                f"(b:{b_label} {{{KEYS[b_label]}: $b}}) CREATE (a)-[:{kind} {{{fields}}}]->(b)",
                {"a": a_key, "b": b_key, **props},
            )

    def query(self, text: str, parameters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of the query's result, values in Neptune's JSON form."""
        with self._lock:
            try:
                result = self._conn.execute(text, parameters or {})
            except Exception as exc:  # the engine's parser and binder errors
                raise QueryError(str(exc).splitlines()[0][:500]) from None
            if isinstance(result, list):
                result = result[-1]
            columns = result.get_column_names()
            rows: list[dict[str, Any]] = []
            while result.has_next():
                if len(rows) >= MAX_ROWS:
                    raise QueryError(f"the result has more than {MAX_ROWS} rows")
                values = result.get_next()
                rows.append({c: _neptune(v) for c, v in zip(columns, values, strict=True)})
            return rows

    def pg_schema(self) -> dict[str, Any]:
        """What Neptune Analytics' ``CALL neptune.graph.pg_schema()`` yields, read from
        the graph: label triples and the properties of each label with their types."""
        triples = self.query(
            "MATCH (a)-[e]->(b) RETURN DISTINCT label(a) AS f, label(e) AS t, label(b) AS o"
        )
        schema: dict[str, Any] = {
            "labelTriples": [{"~from": r["f"], "~type": r["t"], "~to": r["o"]} for r in triples],
            "nodeLabelDetails": {},
            "edgeLabelDetails": {},
        }
        for label in sorted(FIXTURE):
            rows = self.query(f"MATCH (a:`{label}`) RETURN properties(a) AS p LIMIT 100")
            schema["nodeLabelDetails"][label] = {"properties": _typed(rows)}
        for kind in sorted(ENDS):
            rows = self.query(f"MATCH ()-[e:`{kind}`]->() RETURN properties(e) AS p LIMIT 100")
            schema["edgeLabelDetails"][kind] = {"properties": _typed(rows)}
        return schema

    def summary(self) -> dict[str, Any]:
        """GetPropertygraphSummary's ``graphSummary`` (detailed)."""
        node_labels = sorted(FIXTURE)
        edge_labels = sorted({e[0] for e in EDGES})
        node_props = sorted({k for rows in FIXTURE.values() for row in rows for k in row})
        edge_props = sorted({k for e in EDGES for k in e[3]})
        count = sum(len(rows) for rows in FIXTURE.values())
        return {
            "numNodes": count,
            "numEdges": len(EDGES),
            "numNodeLabels": len(node_labels),
            "numEdgeLabels": len(edge_labels),
            "nodeLabels": node_labels,
            "edgeLabels": edge_labels,
            "numNodeProperties": len(node_props),
            "numEdgeProperties": len(edge_props),
            "nodeProperties": [{p: 1} for p in node_props],
            "edgeProperties": [{p: 1} for p in edge_props],
            "totalNodePropertyValues": sum(len(r) for rows in FIXTURE.values() for r in rows),
            "totalEdgePropertyValues": sum(len(e[3]) for e in EDGES),
        }


_DATATYPES = {str: "String", int: "Int", float: "Double", bool: "Boolean"}


def _typed(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Property name -> ``{"datatypes": [...]}`` over the values seen."""
    found: dict[str, set[str]] = {}
    for row in rows:
        for key, value in (row["p"] or {}).items():
            if value is not None:
                found.setdefault(key, set()).add(_DATATYPES.get(type(value), "String"))
    return {k: {"datatypes": sorted(v)} for k, v in sorted(found.items())}


def _ident(value: dict[str, Any]) -> str:
    return f"{value['table']}:{value['offset']}"


def _neptune(value: Any) -> Any:
    """An engine value as Neptune writes it in JSON."""
    if isinstance(value, dict) and "_LABEL" in value and "_ID" in value:
        props = {
            k: _neptune(v) for k, v in value.items() if not k.startswith("_") and v is not None
        }
        if "_SRC" in value:
            return {
                "~id": _ident(value["_ID"]),
                "~entityType": "relationship",
                "~start": _ident(value["_SRC"]),
                "~end": _ident(value["_DST"]),
                "~type": value["_LABEL"],
                "~properties": props,
            }
        return {
            "~id": _ident(value["_ID"]),
            "~entityType": "node",
            "~labels": [value["_LABEL"]],
            "~properties": props,
        }
    if isinstance(value, dict):
        return {str(k): _neptune(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_neptune(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
