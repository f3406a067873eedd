"""``NeptuneOpenCypherQAChain``: answer questions from a Neptune graph by having a model
write an openCypher query (langchain-aws's ``create_neptune_opencypher_qa_chain``, as a
serializable component).

A call takes ``{"query": question}`` (or the question alone) and: shows the model the
graph's schema and the question (``cypher_prompt``), takes the query from its reply
(the first fenced block, then only the lines that start with a Cypher keyword, as
langchain-aws does), checks it, runs it on the graph, and shows the model the rows
(``qa_prompt``) for the answer. The output is ``{"result": answer}`` (the rows
themselves with ``return_direct``), plus ``intermediate_steps`` (the query, and the
rows) with ``return_intermediate_steps``.

Beyond langchain-aws: by default the query must be read-only (``read_only``; see
:mod:`.neptune_guard`) and its result at most ``max_rows`` rows and ``max_result_bytes``
bytes, each refusal an error naming the clause. ``allow_dangerous_requests`` must be
true, as in LangChain: the chain runs model-written queries on your database.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from runwire.providers.aws.neptune import NeptuneGraph
from runwire.providers.aws.neptune_analytics import NeptuneAnalyticsGraph
from runwire.providers.aws.neptune_guard import check_cypher_read_only, check_result_size
from runwire.providers.aws.neptune_qa_base import NeptuneQABase, reply_text
from runwire.runtime.prompts import PromptTemplate

__all__ = [
    "DEFAULT_CYPHER_PROMPT",
    "DEFAULT_QA_PROMPT",
    "NeptuneOpenCypherQAChain",
    "create_neptune_opencypher_qa_chain",
    "extract_cypher",
    "reply_text",
    "trim_query",
]

_KEYWORDS = (
    "CALL", "CREATE", "DELETE", "DETACH", "LIMIT", "MATCH", "MERGE", "OPTIONAL", "ORDER",
    "REMOVE", "RETURN", "SET", "SKIP", "UNWIND", "WITH", "WHERE", "//",
)  # fmt: skip
"""Lines of a reply kept as the query (langchain-aws's list)."""

DEFAULT_CYPHER_PROMPT = PromptTemplate.from_template(
    "Write one openCypher query for Amazon Neptune that answers the question.\n"
    "Use only the node labels, relationship types and properties in this schema:\n"
    "{schema}\n{extra_instructions}\n"
    "Reply with the query alone in a ```cypher block, no explanation.\n\n"
    "Question: {question}"
)
"""The query-writing prompt (variables ``schema``, ``question``, ``extra_instructions``)."""
DEFAULT_QA_PROMPT = PromptTemplate.from_template(
    "Answer the question from these query results, in plain words. If they are empty, "
    "say you do not know.\n\nResults: {context}\n\nQuestion: {question}"
)
"""The answering prompt (variables ``context``, ``question``)."""
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)


def extract_cypher(text: str) -> str:
    """The first fenced block of ``text`` (without a ``cypher`` tag), else the text."""
    match = _FENCE.search(text)
    if match is None:
        return text
    block = match.group(1)
    first, _, rest = block.partition("\n")
    return rest if first.strip().lower() in ("cypher", "opencypher") else block


def trim_query(query: str) -> str:
    """Only the lines that start with a Cypher keyword (langchain-aws's cleanup)."""
    return "".join(
        line + "\n" for line in query.split("\n") if line.strip().upper().startswith(_KEYWORDS)
    )


class NeptuneOpenCypherQAChain(NeptuneQABase):
    """Questions answered from a Neptune graph through model-written openCypher."""

    llm: Any
    """The model that writes the query and the answer (a chat model or an LLM)."""
    graph: NeptuneGraph | NeptuneAnalyticsGraph
    """The graph queried (Neptune Database or Neptune Analytics)."""
    qa_prompt: Any = Field(default_factory=lambda: DEFAULT_QA_PROMPT)
    """Prompt of the answer (``context``, ``question``)."""
    cypher_prompt: Any = None
    """Prompt of the query (``schema``, ``question``, ``extra_instructions``); None: the default."""
    return_intermediate_steps: bool = False
    """Add ``intermediate_steps``: ``[{"query": ...}, {"context": rows}]``."""
    return_direct: bool = False
    """Answer with the rows, without the second model call."""
    extra_instructions: str | None = None
    """Text added to the query prompt."""
    allow_dangerous_requests: bool = False
    """Must be true: you accept that the chain runs model-written queries."""
    read_only: bool = True
    """Refuse queries that could write (see ``neptune_guard``); false allows them."""
    max_rows: int = Field(default=100, gt=0)
    """Refuse a result of more rows."""
    max_result_bytes: int = Field(default=100_000, gt=0)
    """Refuse a result of more bytes (as JSON)."""

    def _query_prompt(self) -> Any:
        return self.cypher_prompt or DEFAULT_CYPHER_PROMPT

    def _extract(self, reply: str) -> str:
        return trim_query(extract_cypher(reply))

    def _check_read_only(self, query: str) -> None:
        check_cypher_read_only(query)

    def _run(self, query: str) -> Any:
        rows = self.graph.query(query)
        check_result_size(rows, self.max_rows, self.max_result_bytes)
        return rows


def create_neptune_opencypher_qa_chain(
    llm: Any,
    graph: NeptuneGraph | NeptuneAnalyticsGraph,
    qa_prompt: Any = None,
    cypher_prompt: Any = None,
    return_intermediate_steps: bool = False,
    return_direct: bool = False,
    extra_instructions: str | None = None,
    allow_dangerous_requests: bool = False,
    **kwargs: Any,
) -> NeptuneOpenCypherQAChain:
    """langchain-aws's constructor: the chain as a serializable component (``kwargs``:
    ``read_only``, ``max_rows``, ``max_result_bytes``)."""
    return NeptuneOpenCypherQAChain(
        llm=llm,
        graph=graph,
        qa_prompt=qa_prompt or DEFAULT_QA_PROMPT,
        cypher_prompt=cypher_prompt,
        return_intermediate_steps=return_intermediate_steps,
        return_direct=return_direct,
        extra_instructions=extra_instructions,
        allow_dangerous_requests=allow_dangerous_requests,
        **kwargs,
    )
