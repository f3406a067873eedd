"""The RDF side of the Neptune emulator: the movie graph as triples in an embedded
SPARQL store (pyoxigraph), queried as Neptune's ``/sparql`` endpoint answers.

Nodes become ``<http://runwire.dev/movies/...>`` resources typed with their label's
class; properties become datatype properties, relationships object properties, each
declared in OWL so schema questions have answers. Only queries run (an update is a
parse error here, as on a read replica); results are SPARQL 1.1 JSON.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

from runwire.testing.neptune.engine import EDGES, ENDS, FIXTURE, KEYS

__all__ = ["BASE", "PREFIXES", "RdfEngine", "SparqlError"]

BASE = "http://runwire.dev/movies/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OWL = "http://www.w3.org/2002/07/owl#"
PREFIXES = {
    "ex": BASE,
    "rdf": RDF,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": OWL,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
"""Prefixes a query may use without declaring them (Neptune predeclares rdf/rdfs/owl/xsd)."""
_RELS = {"ACTED_IN": "actedIn", "DIRECTED": "directed", "PRODUCED": "produced",
         "WORKS_AT": "worksAt"}  # fmt: skip


class SparqlError(Exception):
    """A query the store cannot parse or run (Neptune's ``MalformedQueryException``)."""


def _node(label: str, key: str) -> str:
    return f"{BASE}{label.lower()}/{quote(key.replace(' ', '_'), safe='')}"


class RdfEngine:
    """The fixture graph as RDF in an in-memory pyoxigraph store."""

    def __init__(self) -> None:
        import pyoxigraph as ox

        self._ox = ox
        self._store = ox.Store()
        self._lock = threading.Lock()
        a = ox.NamedNode(RDF + "type")
        quads = []

        def add(s: str, p: str, o: Any) -> None:
            quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o))

        for label, rows in FIXTURE.items():
            add(BASE + label, RDF + "type", ox.NamedNode(OWL + "Class"))
            for row in rows:
                subject = _node(label, row[KEYS[label]])
                quads.append(ox.Quad(ox.NamedNode(subject), a, ox.NamedNode(BASE + label)))
                for prop, value in row.items():
                    add(subject, BASE + prop, ox.Literal(value))
                    add(BASE + prop, RDF + "type", ox.NamedNode(OWL + "DatatypeProperty"))
        for kind, a_key, b_key, _ in EDGES:
            start, end = ENDS[kind]
            add(_node(start, a_key), BASE + _RELS[kind], ox.NamedNode(_node(end, b_key)))
            add(BASE + _RELS[kind], RDF + "type", ox.NamedNode(OWL + "ObjectProperty"))
        self._store.extend(quads)

    def query(self, text: str) -> dict[str, Any]:
        """The SPARQL JSON result of a SELECT or ASK query (CONSTRUCT/DESCRIBE: N-Triples
        text under ``"triples"``)."""
        ox = self._ox
        with self._lock:
            try:
                result = self._store.query(text, prefixes=PREFIXES)
            except (SyntaxError, ValueError, OSError) as exc:
                raise SparqlError(str(exc).splitlines()[0][:500]) from None
            if isinstance(result, ox.QueryTriples):
                text_out = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
                return {"triples": text_out.decode("utf-8")}
            raw = result.serialize(format=ox.QueryResultsFormat.JSON) or b"{}"
            return json.loads(raw)

    def summary(self) -> dict[str, Any]:
        """GetRDFGraphSummary's ``graphSummary``: classes and predicates (with counts)."""
        classes = [BASE + label for label in sorted(FIXTURE)]
        counts: dict[str, int] = {}
        for quad in self._store:
            counts[quad.predicate.value] = counts.get(quad.predicate.value, 0) + 1
        return {
            "numDistinctSubjects": len({q.subject.value for q in self._store}),
            "numDistinctPredicates": len(counts),
            "numQuads": len(self._store),
            "numClasses": len(classes),
            "classes": classes,
            "predicates": [{p: n} for p, n in sorted(counts.items())],
        }
