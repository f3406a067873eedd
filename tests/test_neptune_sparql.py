"""NeptuneRdfGraph and the SPARQL QA chain against the Neptune emulator's SPARQL endpoint
(a pyoxigraph store; SigV4-signed form posts)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.errors import ProviderError
from runwire.providers.aws import NeptuneRdfGraph, create_neptune_sparql_qa_chain
from runwire.providers.aws.neptune_guard import ReadOnlyQueryError
from runwire.providers.aws.neptune_rdf import local_name
from runwire.providers.aws.neptune_sparql_qa import extract_sparql
from runwire.runtime.models.fakes import FakeChatModel
from runwire.testing.neptune import NeptuneEmulator

DIRECTOR = (
    "```sparql\nSELECT ?name WHERE { ?p ex:directed ?m . ?m ex:title 'Lady Bird' . "
    "?p ex:name ?name }\n```"
)


@pytest.fixture(scope="module")
def emu() -> Iterator[NeptuneEmulator]:
    with NeptuneEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as server:
        yield server


def rdf(emu: NeptuneEmulator, **kwargs: Any) -> NeptuneRdfGraph:
    settings: dict[str, Any] = {
        "host": "localhost",
        "endpoint_url": emu.endpoint_url,
        "region_name": "us-east-1",
        "use_iam_auth": True,
        "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
        "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
    }
    return NeptuneRdfGraph(**{**settings, **kwargs})


def test_signed_sparql_queries_and_schema(emu: NeptuneEmulator) -> None:
    graph = rdf(emu)
    result = graph.query(
        "SELECT ?t WHERE { ?m a ex:Movie ; ex:title ?t ; ex:released ?y FILTER(?y > 2010) } "
        "ORDER BY ?t"
    )
    assert [b["t"]["value"] for b in result["results"]["bindings"]] == [
        "Lady Bird", "Little Women"
    ]  # fmt: skip
    assert emu.requests[-1].access_key_id == EMULATOR_KEY_ID  # SigV4 checked by the emulator
    schema = graph.get_schema
    assert "<http://runwire.dev/movies/Movie> (Movie)" in schema
    assert "OWL object properties:\n" in schema and "(actedIn)" in schema
    elements = graph.get_schema_elements
    assert {e["local"] for e in elements["dtprops"]} >= {"title", "born", "city"}
    with pytest.raises(ProviderError, match="MalformedQueryException"):
        graph.query("SELECT ?x WHERE { ?x ?y }")
    unsigned = rdf(emu, use_iam_auth=False)
    with pytest.raises(ProviderError, match="AccessDeniedException"):
        unsigned.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


def test_response_size_is_bounded(emu: NeptuneEmulator) -> None:
    with pytest.raises(ProviderError, match="ResponseTooLarge"):
        rdf(emu, max_response_bytes=200).query("SELECT * WHERE { ?s ?p ?o }")


def test_helpers() -> None:
    assert local_name("http://ex.org/a#Movie") == ("http://ex.org/a#", "Movie")
    assert local_name("http://ex.org/movies/Movie") == ("http://ex.org/movies/", "Movie")
    with pytest.raises(ValueError, match="neither"):
        local_name("urn:x")
    assert extract_sparql("<sparql>ASK {}</sparql>") == "ASK {}"
    assert extract_sparql("```sparql\nASK {}\n```") == "\nASK {}\n"
    assert extract_sparql("ASK {}") == "ASK {}"


def test_sparql_chain_end_to_end(emu: NeptuneEmulator) -> None:
    chain = create_neptune_sparql_qa_chain(
        FakeChatModel(responses=[DIRECTOR, "Greta Gerwig."]), rdf(emu),
        allow_dangerous_requests=True, return_intermediate_steps=True,
        examples="Q: titles? A: SELECT ?t WHERE { ?m ex:title ?t }",
    )  # fmt: skip
    out = chain.invoke({"query": "Who directed Lady Bird?"})
    assert out["result"].content == "Greta Gerwig."
    bindings = out["intermediate_steps"][1]["context"]["results"]["bindings"]
    assert bindings == [{"name": {"type": "literal", "value": "Greta Gerwig"}}]
    direct = create_neptune_sparql_qa_chain(
        FakeChatModel(responses=[DIRECTOR]), rdf(emu), allow_dangerous_requests=True,
        return_direct=True,
    )  # fmt: skip
    assert direct.invoke("Who?")["result"]["results"]["bindings"] == bindings


@pytest.mark.parametrize(
    "reply",
    [
        "```sparql\nDELETE WHERE { ?s ?p ?o }\n```",
        "```sparql\nINSERT DATA { ex:a ex:b ex:c }\n```",
        "```sparql\nSELECT * WHERE { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }\n```",
    ],
)
def test_sparql_chain_refuses_updates(emu: NeptuneEmulator, reply: str) -> None:
    before = len(emu.requests)
    chain = create_neptune_sparql_qa_chain(
        FakeChatModel(responses=[reply]), rdf(emu), allow_dangerous_requests=True
    )
    chain.graph.load_schema({k: [] for k in ("classes", "rels", "dtprops", "oprops")})
    with pytest.raises(ReadOnlyQueryError):
        chain.invoke("do it")
    assert len(emu.requests) == before  # nothing was sent


def test_sparql_chain_round_trips(emu: NeptuneEmulator) -> None:
    chain = create_neptune_sparql_qa_chain(
        FakeChatModel(responses=[DIRECTOR, "Greta."]), rdf(emu), allow_dangerous_requests=True
    )
    text = runwire.dumps(chain)
    assert EMULATOR_SECRET not in text
    keys = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    back = runwire.loads(
        text, allowed_objects="all", secrets_map=keys,
        allowed_endpoints=["http://127.0.0.1", "http://localhost"],
    )  # fmt: skip
    assert back == chain and back.invoke("Who?")["result"].content == "Greta."
    with pytest.raises(ValueError, match="allow_dangerous_requests"):
        create_neptune_sparql_qa_chain(FakeChatModel(), rdf(emu))
