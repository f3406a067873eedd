"""Chains draw as LangChain draws them: ``get_graph().draw_mermaid()``."""

from __future__ import annotations

import pytest

from runwire.runtime import (
    ChatPromptTemplate,
    FakeChatModel,
    RunnableParallel,
    RunnablePassthrough,
    StrOutputParser,
)


def _chain() -> object:
    prompt = ChatPromptTemplate.from_messages([("human", "{q}")])
    return prompt | FakeChatModel() | StrOutputParser()


def test_a_sequence_is_drawn_input_steps_output() -> None:
    text = _chain().get_graph().draw_mermaid()
    assert text == (
        "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
        "\tPromptInput([PromptInput]):::first\n\tChatPromptTemplate(ChatPromptTemplate)\n"
        "\tFakeChatModel(FakeChatModel)\n\tStrOutputParser(StrOutputParser)\n"
        "\tStrOutputParserOutput([StrOutputParserOutput]):::last\n"
        "\tPromptInput --> ChatPromptTemplate;\n\tChatPromptTemplate --> FakeChatModel;\n"
        "\tFakeChatModel --> StrOutputParser;\n\tStrOutputParser --> StrOutputParserOutput;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n\tclassDef last fill:#bfb6fc\n"
    )


def test_a_parallel_step_fans_out_and_joins_and_repeated_names_are_numbered() -> None:
    chain = RunnableParallel(a=RunnablePassthrough(), b=StrOutputParser()) | StrOutputParser()
    drawn = chain.get_graph()
    assert list(drawn.nodes) == [
        "Parallel<a,b>Input",
        "Parallel<a,b>Output",
        "RunnablePassthrough",
        "StrOutputParser_1",
        "StrOutputParser_2",
        "StrOutputParserOutput",
    ]
    assert {(e.source, e.target) for e in drawn.edges} == {
        ("Parallel<a,b>Input", "RunnablePassthrough"),
        ("Parallel<a,b>Input", "StrOutputParser_1"),
        ("RunnablePassthrough", "Parallel<a,b>Output"),
        ("StrOutputParser_1", "Parallel<a,b>Output"),
        ("Parallel<a,b>Output", "StrOutputParser_2"),
        ("StrOutputParser_2", "StrOutputParserOutput"),
    }
    assert drawn.first_node().id == "Parallel<a,b>Input"


def test_the_same_nodes_and_edges_as_langchain() -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser as LcParser
    from langchain_core.prompts import ChatPromptTemplate as LcPrompt

    theirs = (
        LcPrompt.from_messages([("human", "{q}")]) | FakeListChatModel(responses=["x"]) | LcParser()
    ).get_graph()
    names = {k: n.name for k, n in theirs.nodes.items()}
    their_edges = {(names[e.source], names[e.target]) for e in theirs.edges}
    ours = _chain().get_graph()
    our_edges = {(e.source, e.target) for e in ours.edges}
    rename = {"FakeListChatModel": "FakeChatModel"}
    assert {(rename.get(a, a), rename.get(b, b)) for a, b in their_edges} == our_edges
