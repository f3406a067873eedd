"""The read-only guards of model-written openCypher and SPARQL queries."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runwire.providers.aws.neptune_guard import (
    QueryLimitError,
    ReadOnlyQueryError,
    check_cypher_read_only,
    check_result_size,
    check_sparql_read_only,
)

READ_CYPHER = [
    "MATCH (p:Person)-[:ACTED_IN]->(m:Movie) RETURN p.name, m.title LIMIT 10",
    "MATCH (n) WHERE n.name = 'CREATE (x)' RETURN n",  # a keyword in a string
    'MATCH (n {title: "DELETE me"}) RETURN n.set, n.create',  # property keys
    "MATCH (n:`SET`) RETURN n  // DELETE everything later",  # label and comment
    "MATCH (n) /* MERGE (m) */ RETURN count(n) AS total;",
    "MATCH (n) RETURN {create: n.name, remove: 1} AS row",  # map keys
    "MATCH (n) WHERE n.x = $set RETURN n",  # parameter
    "CALL neptune.graph.pg_schema() YIELD schema RETURN schema",
    "CALL db.labels() YIELD label RETURN label",
    "CALL neptune.algo.pageRank(n) YIELD rank RETURN rank",
    "WITH 'a\\'CREATE' AS s RETURN s",  # escaped quote inside a string
    "MATCH (`weird ``CREATE`` name`) RETURN 1",
]


@pytest.mark.parametrize("query", READ_CYPHER)
def test_read_cypher_passes(query: str) -> None:
    check_cypher_read_only(query)


@pytest.mark.parametrize(
    ("query", "clause", "line", "column"),
    [
        ("CREATE (n:Person {name: 'x'})", "CREATE", 1, 1),
        ("MATCH (n)\n  DETACH DELETE n", "DETACH", 2, 3),
        ("MATCH (n) SET n.admin = true", "SET", 1, 11),
        ("MERGE (n:User {id: 1}) RETURN n", "MERGE", 1, 1),
        ("MATCH (n) REMOVE n.name", "REMOVE", 1, 11),
        ("mAtCh (n) dElEtE n", "DELETE", 1, 11),
        ("LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", "LOAD CSV", 1, 1),
        ("MATCH (n) FOREACH (x IN [1] | CREATE (:A))", "FOREACH", 1, 11),
        ("DROP INDEX idx", "DROP", 1, 1),
        ("CALL apoc.create.node(['A'], {}) YIELD node RETURN node", "CALL apoc.create.node", 1, 1),
        ("CALL neptune.algo.pageRank.mutate() YIELD x", "CALL neptune.algo.pageRank.mutate", 1, 1),
        ("CALL neptune.read({source: 's3://bucket/x'})", "CALL neptune.read", 1, 1),
        ("MATCH (n) RETURN n; MATCH (m) DELETE m", "a second statement", 1, 19),
        ("MATCH (n) CALL { CREATE (:X) } RETURN n", "CREATE", 1, 18),
    ],
)
def test_writing_cypher_is_refused(query: str, clause: str, line: int, column: int) -> None:
    with pytest.raises(ReadOnlyQueryError) as info:
        check_cypher_read_only(query)
    assert (info.value.clause, info.value.line, info.value.column) == (clause, line, column)
    assert clause in str(info.value) and "read_only: false" in str(info.value)


@pytest.mark.parametrize("query", ["MATCH (n) WHERE n.x = 'open", "MATCH (n) /* open", "`open"])
def test_unreadable_cypher_is_refused(query: str) -> None:
    with pytest.raises(ReadOnlyQueryError, match="unterminated"):
        check_cypher_read_only(query)


READ_SPARQL = [
    "SELECT ?title WHERE { ?m <http://ex.org/title> ?title } LIMIT 5",
    "PREFIX ex: <http://ex.org/>\nSELECT ?x WHERE { ?x ex:insert ?y }",  # prefixed name
    "ASK { ?s ?p 'DELETE DATA' }",
    "SELECT ?delete WHERE { ?delete ?p ?o FILTER(?o < 5) } # DROP ALL",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DESCRIBE <http://ex.org/movie/1>",
    'BASE <http://ex.org/> SELECT * WHERE { ?s ?p """multi\nline INSERT""" }',
]


@pytest.mark.parametrize("query", READ_SPARQL)
def test_read_sparql_passes(query: str) -> None:
    check_sparql_read_only(query)


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        ("INSERT DATA { <http://a> <http://b> 'c' }", "INSERT"),
        ("PREFIX ex: <http://ex.org/>\ndelete where { ?s ex:p ?o }", "DELETE"),
        ("DROP ALL", "DROP"),
        ("CLEAR GRAPH <http://g>", "CLEAR"),
        ("LOAD <http://evil.example/data.ttl>", "LOAD"),
        ("SELECT * WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }", "SERVICE"),
        ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("SELECT * WHERE { ?s ?p ?o } ; DROP ALL", "DROP"),
    ],
)
def test_sparql_updates_are_refused(query: str, clause: str) -> None:
    with pytest.raises(ReadOnlyQueryError) as info:
        check_sparql_read_only(query)
    assert info.value.clause == clause


def test_result_limits() -> None:
    check_result_size([{"a": 1}] * 3, max_rows=3, max_bytes=1000)
    with pytest.raises(QueryLimitError, match="4 rows, over the limit of 3"):
        check_result_size([{"a": 1}] * 4, max_rows=3, max_bytes=1000)
    with pytest.raises(QueryLimitError, match="bytes, over the limit of 10"):
        check_result_size([{"a": "x" * 20}], max_rows=3, max_bytes=10)


WRITES = ["CREATE", "MERGE", "SET", "DELETE", "REMOVE", "DROP", "FOREACH"]
NOISE = st.sampled_from(
    [" ", "\n", "\t", "  ", " /* c */ ", " // note\n", "(n)", "MATCH (n) ", "WITH n ", "RETURN n "]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(NOISE, max_size=4),
    st.sampled_from(WRITES),
    st.lists(st.sampled_from([str.lower, str.upper, str.title]), min_size=1, max_size=1),
    st.lists(NOISE, max_size=4),
)
def test_generated_write_queries_are_always_refused(
    before: list[str], write: str, case: list, after: list[str]
) -> None:
    query = "".join(before) + " " + case[0](write) + " " + "".join(after)
    with pytest.raises(ReadOnlyQueryError):
        check_cypher_read_only(query)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_answered_without_crashing(text: str) -> None:
    for check in (check_cypher_read_only, check_sparql_read_only):
        with contextlib.suppress(ReadOnlyQueryError):
            check(text)
