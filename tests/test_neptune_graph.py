"""NeptuneGraph and the openCypher QA chain through boto3 against the Neptune emulator
(SigV4-checked, queries run on an embedded graph engine)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from pydantic import SecretStr

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws import (
    NeptuneAnalyticsGraph,
    NeptuneGraph,
    NeptuneOpenCypherQAChain,
    create_neptune_opencypher_qa_chain,
)
from runwire.providers.aws.neptune_guard import QueryLimitError, ReadOnlyQueryError
from runwire.runtime.models.fakes import FakeChatModel
from runwire.testing.neptune import NeptuneEmulator

LADY_BIRD = "```cypher\nMATCH (p:Person)-[:DIRECTED]->(m:Movie {title: 'Lady Bird'})\nRETURN p.name AS director\n```"  # noqa: E501


@pytest.fixture(scope="module")
def emu() -> Iterator[NeptuneEmulator]:
    with NeptuneEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as server:
        yield server


def graph(emu: NeptuneEmulator, **kwargs: Any) -> NeptuneGraph:
    return NeptuneGraph(
        host="localhost",
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=SecretStr(EMULATOR_KEY_ID),
        aws_secret_access_key=SecretStr(EMULATOR_SECRET),
        **kwargs,
    )


def test_the_emulator_answers_boto3(emu: NeptuneEmulator) -> None:
    client = boto3.client(
        "neptunedata",
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_KEY_ID,
        aws_secret_access_key=EMULATOR_SECRET,
    )
    rows = client.execute_open_cypher_query(
        openCypherQuery="MATCH (m:Movie) WHERE m.released > $y RETURN m.title AS t ORDER BY t",
        parameters='{"y": 2010}',
    )["results"]
    assert rows == [{"t": "Lady Bird"}, {"t": "Little Women"}]
    node = client.execute_open_cypher_query(
        openCypherQuery="MATCH (c:Company {name: 'A24'}) RETURN c"
    )["results"][0]["c"]
    assert node["~entityType"] == "node" and node["~labels"] == ["Company"]
    assert node["~properties"] == {"name": "A24", "founded": 2012, "city": "New York"}
    summary = client.get_propertygraph_summary(mode="detailed")["payload"]["graphSummary"]
    assert summary["nodeLabels"] == ["Company", "Movie", "Person"]
    with pytest.raises(client.exceptions.MalformedQueryException):
        client.execute_open_cypher_query(openCypherQuery="MATCH (n RETURN n")
    stranger = boto3.client(
        "neptunedata", endpoint_url=emu.endpoint_url, region_name="us-east-1",
        aws_access_key_id=EMULATOR_KEY_ID, aws_secret_access_key="wrong",
    )  # fmt: skip
    with pytest.raises(Exception, match="AccessDenied"):
        stranger.execute_open_cypher_query(openCypherQuery="MATCH (n) RETURN n")


def test_query_and_schema(emu: NeptuneEmulator) -> None:
    g = graph(emu, property_descriptions={("Movie", "genre"): "the kind of film"})
    assert g.property_descriptions == {"Movie.genre": "the kind of film"}
    rows = g.query("MATCH (p:Person {name: $n})-[r:ACTED_IN]->(m) RETURN r.role AS role",
                   {"n": "Carrie-Anne Moss"})  # fmt: skip
    assert rows == [{"role": "Trinity"}]
    schema = g.get_schema
    assert schema.startswith("Node properties are the following:\n")
    assert "{'property': 'genre', 'type': 'STRING', 'description': 'the kind of film'}" in schema
    assert "{'type': 'WORKS_AT', 'properties': [{'property': 'since', 'type': 'INTEGER'}]}" in (
        schema
    )
    assert "'(:`Person`)-[:`ACTED_IN`]->(:`Movie`)'" in schema
    before = len(emu.requests)
    assert g.get_schema == schema and len(emu.requests) == before  # read once
    g.refresh_schema()
    assert len(emu.requests) > before
    with pytest.raises(ProviderError, match="MalformedQueryException"):
        g.query("MATCH (n RETURN n")


def test_unsigned_requests() -> None:
    with NeptuneEmulator(require_auth=False) as open_cluster:
        port = int(open_cluster.endpoint_url.rsplit(":", 1)[1])
        g = NeptuneGraph(host="127.0.0.1", port=port, use_https=False, sign=False,
                         region_name="us-east-1")  # fmt: skip
        assert g.query("MATCH (c:Company) RETURN count(c) AS n") == [{"n": 2}]
        assert open_cluster.requests[-1].access_key_id is None


def test_untrusted_files_may_only_name_neptune_hosts() -> None:
    node = {"lc": 1, "type": "constructor", "id": ["runwire", "providers", "aws", "NeptuneGraph"],
            "kwargs": {"host": "169.254.169.254"}}  # fmt: skip
    with pytest.raises(runwire.errors.ManifestError, match="not a Neptune endpoint"):
        runwire.load(node, allowed_objects="all")
    node["kwargs"]["host"] = "db.cluster-x.us-east-1.neptune.amazonaws.com"
    assert runwire.load(node, allowed_objects="all").port == 8182


def chain(emu: NeptuneEmulator, *replies: str, **kwargs: Any) -> NeptuneOpenCypherQAChain:
    return create_neptune_opencypher_qa_chain(
        FakeChatModel(responses=list(replies)), graph(emu), allow_dangerous_requests=True,
        **kwargs,
    )  # fmt: skip


def test_qa_chain_end_to_end(emu: NeptuneEmulator) -> None:
    qa = chain(emu, LADY_BIRD, "Greta Gerwig directed it.", return_intermediate_steps=True)
    out = qa.invoke({"query": "Who directed Lady Bird?"})
    assert out["result"].content == "Greta Gerwig directed it."
    assert out["intermediate_steps"] == [
        {"query": "MATCH (p:Person)-[:DIRECTED]->(m:Movie {title: 'Lady Bird'})\n"
                  "RETURN p.name AS director\n"},
        {"context": [{"director": "Greta Gerwig"}]},
    ]  # fmt: skip
    direct = chain(emu, LADY_BIRD, return_direct=True)
    assert direct.invoke("Who directed Lady Bird?") == {"result": [{"director": "Greta Gerwig"}]}
    assert asyncio.run(chain(emu, LADY_BIRD, "Greta.").ainvoke("Who?"))["result"].content == (
        "Greta."
    )


def test_qa_chain_round_trips(emu: NeptuneEmulator) -> None:
    qa = chain(emu, LADY_BIRD, "Greta.", extra_instructions="Be exact.", max_rows=5)
    text = runwire.dumps(qa)
    assert EMULATOR_SECRET not in text
    keys = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    back = runwire.loads(
        text, allowed_objects="all", secrets_map=keys,
        allowed_endpoints=["http://127.0.0.1", "http://localhost"],
    )  # fmt: skip
    assert back == qa and back.invoke("Who directed Lady Bird?")["result"].content == "Greta."


def test_writes_are_refused_before_they_reach_the_graph(emu: NeptuneEmulator) -> None:
    before = [r.query for r in emu.requests]
    qa = chain(emu, "```\nMATCH (m:Movie) DETACH DELETE m\n```")
    with pytest.raises(ReadOnlyQueryError, match="DETACH at line 1, column 17"):
        qa.invoke("Remove every movie")
    assert not any("DELETE" in q for q in [r.query for r in emu.requests][len(before) :])
    count = graph(emu).query("MATCH (m:Movie) RETURN count(m) AS n")
    assert count == [{"n": 4}]
    writer = chain(emu, "```\nMATCH (m:Movie {title: 'A'}) SET m.genre = 'x' RETURN m\n```",
                   "done", read_only=False)  # fmt: skip
    assert writer.invoke("set it")["result"].content == "done"  # the file said read_only: false


def test_limits_and_acknowledgement(emu: NeptuneEmulator) -> None:
    many = chain(emu, "```\nMATCH (p:Person) RETURN p.name\n```", max_rows=2)
    with pytest.raises(QueryLimitError, match="5 rows, over the limit of 2"):
        many.invoke("everyone")
    with pytest.raises(ValueError, match="allow_dangerous_requests"):
        create_neptune_opencypher_qa_chain(FakeChatModel(), graph(emu))


def test_runwire_emulate_neptune() -> None:
    script = (
        "import os, boto3; c = boto3.client('neptunedata', "
        "endpoint_url=os.environ['NEPTUNE_ENDPOINT_URL'], region_name='us-east-1'); "
        "print(c.execute_open_cypher_query(openCypherQuery="
        "'MATCH (m:Movie) RETURN count(m) AS n')['results'][0]['n'])"
    )
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", "emulate", "neptune", "--", sys.executable,
         "-c", script],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"


def analytics(emu: NeptuneEmulator, graph_id: str = "g-runwire01") -> NeptuneAnalyticsGraph:
    return NeptuneAnalyticsGraph(
        graph_identifier=graph_id,
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=SecretStr(EMULATOR_KEY_ID),
        aws_secret_access_key=SecretStr(EMULATOR_SECRET),
        property_descriptions={("Person", "born"): "year of birth"},
    )


def test_neptune_analytics_graph(emu: NeptuneEmulator) -> None:
    g = analytics(emu)
    rows = g.query("MATCH (m:Movie) WHERE m.released < $y RETURN m.title AS t ORDER BY t",
                   {"y": 2010})  # fmt: skip
    assert rows == [{"t": "The Matrix"}, {"t": "The Matrix Reloaded"}]
    schema = g.get_schema
    assert "{'property': 'born', 'type': 'Int', 'description': 'year of birth'}" in schema
    assert "'(:`Company`)-[:`PRODUCED`]->(:`Movie`)'" in schema
    assert emu.requests[-1].query == "CALL neptune.graph.pg_schema() YIELD schema RETURN schema"
    with pytest.raises(ProviderError, match="ResourceNotFoundException"):
        analytics(emu, "g-other").query("MATCH (n) RETURN n")
    qa = create_neptune_opencypher_qa_chain(
        FakeChatModel(responses=["```\nMATCH (c:Company) RETURN c.name AS n ORDER BY n\n```"]),
        g, allow_dangerous_requests=True, return_direct=True,
    )  # fmt: skip
    assert qa.invoke("Which companies?") == {"result": [{"n": "A24"}, {"n": "Warner Bros."}]}
    text = runwire.dumps(qa)
    assert '"id":["runwire","providers","aws","NeptuneAnalyticsGraph"]' in text
    assert '"property_descriptions":{"Person.born":"year of birth"}' in text
