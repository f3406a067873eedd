"""Every example in configs/: valid, snapshot-tested in canonical form, and run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import EMULATOR_KEY_ID
from runwire.loader.files import Manifest, load_file
from runwire.loader.rewrite import format_text
from runwire.loader.validate import validate_manifest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"

# (files, input, config, expected output)
RUNS: dict[str, tuple[list[str], Any, dict[str, Any] | None, Any]] = {
    "chat": (
        ["chat.yaml"],
        {"role": "a geographer", "question": "Capital of France?"},
        None,
        "Paris is the capital of France.",
    ),
    "chat+terse": (
        ["chat.yaml", "overlays/terse.yaml"],
        {"role": "a geographer", "question": "Capital of France?"},
        None,
        "Paris.",
    ),
    "fanout": (
        ["fanout.yaml"],
        {"text": "Orders ship within 2 business days."},
        None,
        {
            "summary": "Orders ship in two days and can be returned for a month.",
            "keywords": ["shipping", "returns", "policy"],
        },
    ),
    "fallbacks": (
        ["fallbacks.yaml"],
        {"question": "Where is the Louvre?"},
        None,
        {"city": "Paris"},
    ),
    "alternatives": (["alternatives.yaml"], {"question": "Capital?"}, None, "Sure, it's Paris!"),
    "alternatives-formal": (
        ["alternatives.yaml"],
        {"question": "Capital?"},
        {"configurable": {"model": "formal"}},
        "The capital of France is Paris.",
    ),
    "alternatives-replies": (
        ["alternatives.yaml"],
        {"question": "Capital?"},
        {"configurable": {"replies": ["Paris, of course."]}},
        "Paris, of course.",
    ),
    "support": (
        ["support.yaml"],
        {"product": "Shoes", "question": "Can I return them?"},
        None,
        "You can return it within 30 days.",
    ),
}
PIPELINES = sorted({tuple(files) for files, *_ in RUNS.values()})


def _paths(files: tuple[str, ...] | list[str]) -> list[Path]:
    return [CONFIGS / name for name in files]


QUICKSTART = CONFIGS / "quickstart.yaml"
"""Runs against the Bedrock emulator, so it is tested on its own below."""
AGENT = CONFIGS / "agent.yaml"
"""The tool-calling agent: the Bedrock emulator too."""
ON_EMULATOR = (QUICKSTART.name, AGENT.name)
APPROVAL = CONFIGS / "approval.yaml"
"""A graph that waits for a person: it runs with a thread, tested below."""
RAG_KB = "rag_kb.yaml"
"""Knowledge Bases RAG on the Bedrock emulator: run in tests/test_aws_knowledge_bases.py."""
OCI_VLLM = "oci_vllm.yaml"
"""On the OCI vLLM emulator: run in tests/test_oci_vllm_config.py."""
OPENAI_ASSISTANT = "openai_assistant.yaml"
"""On the Assistants emulator's Responses API: run in tests/test_openai_config.py."""
SEMANTIC_CACHE = "semantic_cache.yaml"
"""Bedrock and MemoryDB emulators: run in tests/test_memorydb_config.py."""
NEPTUNE_QA = "neptune_qa.yaml"
"""The Neptune emulator: run in tests/test_neptune_config.py."""
RAG_GRAPH = "rag_graph.yaml"
"""Retrieve -> grade -> generate on the Bedrock emulator: tests/graph/test_rag_graph_config.py."""
S3VECTORS_SEARCH = "s3vectors_search.yaml"
"""S3 Vectors ingest, then search, on its emulator: run in tests/test_s3vectors_config.py."""
OWN_TESTS = (
    *ON_EMULATOR,
    APPROVAL.name,
    RAG_KB,
    RAG_GRAPH,
    OCI_VLLM,
    OPENAI_ASSISTANT,
    SEMANTIC_CACHE,
    S3VECTORS_SEARCH,
    NEPTUNE_QA,
)


def test_every_top_level_config_is_covered() -> None:
    top = {p.name for p in CONFIGS.iterdir() if p.suffix in (".yaml", ".yml")}
    assert top == {files[0] for files in PIPELINES} | set(OWN_TESTS)
    assert len(RUNS) >= 6


@pytest.mark.parametrize("files", [*PIPELINES, *((n,) for n in OWN_TESTS)], ids="+".join)
def test_config_is_valid(files: tuple[str, ...]) -> None:
    manifest = Manifest.read(_paths(files))
    assert validate_manifest(manifest, env={}) == []


@pytest.mark.parametrize("files", [*PIPELINES, *((n,) for n in OWN_TESTS)], ids="+".join)
def test_config_snapshot(files: tuple[str, ...], manifest_snapshot: Any) -> None:
    pipeline = load_file(_paths(files), env={})
    manifest_snapshot(pipeline)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_config_runs(name: str) -> None:
    files, value, config, expected = RUNS[name]
    pipeline = load_file(_paths(files), env={})
    assert pipeline.invoke(value, config) == expected


@pytest.mark.parametrize("name", ["chat", "support", "alternatives"])
def test_config_streams_to_the_same_output(name: str) -> None:
    files, value, config, expected = RUNS[name]
    pipeline = load_file(_paths(files), env={})

    async def collect() -> list[Any]:
        return [chunk async for chunk in pipeline.astream(value, config)]

    chunks = asyncio.run(collect())
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total == expected


def test_environment_changes_the_answer() -> None:
    pipeline = load_file(CONFIGS / "chat.yaml", env={"CHAT_ANSWER": "Lyon?"})
    assert pipeline.invoke({"role": "r", "question": "q"}) == "Lyon?"


@pytest.mark.parametrize(
    "path", sorted(p for p in CONFIGS.rglob("*") if p.suffix in (".yaml", ".yml"))
)
def test_configs_are_formatted(path: Path) -> None:
    text = path.read_text()
    assert format_text(text, yaml=True, source=str(path)) == text


def test_quickstart_runs_against_the_bedrock_emulator(aws_env: Any) -> None:
    question = json.loads((CONFIGS / "inputs" / "quickstart.json").read_text())
    pipeline = load_file(QUICKSTART, env={"BEDROCK_ENDPOINT_URL": aws_env.endpoint_url})
    assert pipeline.invoke(question) == question["question"]  # the emulator echoes
    sent = aws_env.requests[-1]
    assert (sent.operation, sent.model_id) == (
        "Converse",
        "anthropic.claude-3-haiku-20240307-v1:0",
    )
    assert sent.body["system"] == [{"text": "You are a concise assistant. Answer in one sentence."}]
    assert sent.body["inferenceConfig"] == {"maxTokens": 256, "temperature": 0}
    assert sent.access_key_id == EMULATOR_KEY_ID


def test_the_agent_calls_its_tool_on_the_bedrock_emulator(aws_env: Any) -> None:
    question = json.loads((CONFIGS / "inputs" / "agent.json").read_text())
    agent = load_file(AGENT, env={"BEDROCK_ENDPOINT_URL": aws_env.endpoint_url})
    out = agent.invoke(question)
    ai, tool, answer = out["messages"][1:]
    assert [(c["name"], c["args"]) for c in ai.tool_calls] == [
        ("lookup_order", {"order_id": "A17"})
    ]
    assert tool.content == "Order A17 shipped on Monday and arrives on Thursday."
    assert answer.text == tool.content  # the emulator answers with the tool's result
    first, second = (r.body for r in aws_env.requests)
    assert first["system"] == [{"text": agent.prompt}]
    assert [t["toolSpec"]["name"] for t in first["toolConfig"]["tools"]] == ["lookup_order"]
    assert second["messages"][-1]["content"][0]["toolResult"]["toolUseId"] == ai.tool_calls[0]["id"]


@pytest.mark.parametrize(("answer", "sent"), [("yes", True), ("no", False)])
def test_the_approval_graph_waits_for_a_person(answer: str, sent: bool) -> None:
    from runwire.graph import Command
    from runwire.graph.checkpoint import InMemorySaver

    request = json.loads((CONFIGS / "inputs" / "approval.json").read_text())
    graph = load_file(APPROVAL, env={}).compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "r"}}
    paused = graph.invoke(request, config)
    (asked,) = paused["__interrupt__"]
    assert asked.value["question"] == "Send this reply to the customer?"
    assert graph.get_state(config).next == ("review",)
    done = graph.invoke(Command(resume=answer), config)
    texts = [m.content for m in done["messages"]]
    assert texts[0].startswith("Your refund was approved")
    assert (texts[-1] == "Sent to the customer.") is sent
    assert done["decision"] == answer


def test_quickstart_without_an_endpoint_means_aws_itself(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    pipeline = load_file(QUICKSTART, env={})
    model = pipeline.steps[1]
    assert model.endpoint_url == ""
    client = model.aws_client()
    assert client.meta.endpoint_url == "https://bedrock-runtime.us-east-1.amazonaws.com"
