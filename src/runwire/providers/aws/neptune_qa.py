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

from pydantic import Field, model_validator

from runwire.providers.aws.neptune import NeptuneGraph
from runwire.providers.aws.neptune_analytics import NeptuneAnalyticsGraph
from runwire.providers.aws.neptune_guard import check_cypher_read_only, check_result_size
from runwire.runtime.config import RunnableConfig
from runwire.runtime.prompts import PromptTemplate
from runwire.runtime.serializable import RunnableSerializable

__all__ = [
    "DEFAULT_CYPHER_PROMPT",
    "DEFAULT_QA_PROMPT",
    "NeptuneOpenCypherQAChain",
    "create_neptune_opencypher_qa_chain",
    "extract_cypher",
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


def reply_text(reply: Any) -> str:
    """The text of a model's reply (a message or a string)."""
    content = getattr(reply, "content", reply)
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


class NeptuneOpenCypherQAChain(RunnableSerializable[Any, dict[str, Any]]):
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

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @model_validator(mode="after")
    def _acknowledged(self) -> NeptuneOpenCypherQAChain:
        if self.allow_dangerous_requests is not True:
            raise ValueError(
                "this chain runs queries a model writes on your database: set "
                "allow_dangerous_requests to true to acknowledge it, and give it credentials "
                "that can only read what it needs"
            )
        return self

    def _steps(self, question: str, config: RunnableConfig) -> dict[str, Any]:
        prompt = self.cypher_prompt or DEFAULT_CYPHER_PROMPT
        inputs = {
            "question": question,
            "schema": self.graph.get_schema,
            "extra_instructions": self.extra_instructions or "",
        }
        reply = self.llm.invoke(prompt.invoke(inputs, config), config)
        cypher = trim_query(extract_cypher(reply_text(reply)))
        if self.read_only:
            check_cypher_read_only(cypher)
        rows = self.graph.query(cypher)
        check_result_size(rows, self.max_rows, self.max_result_bytes)
        steps: list[dict[str, Any]] = [{"query": cypher}]
        if self.return_direct:
            output: dict[str, Any] = {"result": rows}
        else:
            answer_prompt = self.qa_prompt.invoke({"question": question, "context": rows}, config)
            output = {"result": self.llm.invoke(answer_prompt, config)}
            steps.append({"context": rows})
        if self.return_intermediate_steps:
            output["intermediate_steps"] = steps
        return output

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        question = input if isinstance(input, str) else input["query"]
        return self._call_with_config(lambda q, cfg: self._steps(q, cfg), question, config)


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
