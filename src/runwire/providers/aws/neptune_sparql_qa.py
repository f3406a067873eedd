"""``NeptuneSparqlQAChain``: answer questions from a Neptune RDF graph by having a model
write a SPARQL query (langchain-aws's ``create_neptune_sparql_qa_chain``, as a
serializable component).

As the openCypher chain (:mod:`.neptune_qa`): ``{"query": question}`` in, the model
writes a query from the schema (``sparql_prompt``: variables ``schema``, ``prompt``,
``extra_instructions``; ``examples`` are added to the default one), the query is taken
from the reply as langchain-aws takes it (a fenced block, or ``<sparql>...</sparql>``),
checked, run, and the model answers from the JSON result (``qa_prompt``: ``prompt``,
``context``). By default the query must be a plain query (no SPARQL Update, no
``SERVICE``) and its result at most ``max_rows`` bindings and ``max_result_bytes``
bytes; ``allow_dangerous_requests`` must be true.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runwire.providers.aws.neptune_guard import check_result_size, check_sparql_read_only
from runwire.providers.aws.neptune_qa_base import NeptuneQABase
from runwire.providers.aws.neptune_rdf import NeptuneRdfGraph
from runwire.runtime.prompts import PromptTemplate

__all__ = [
    "DEFAULT_SPARQL_PROMPT",
    "DEFAULT_SPARQL_QA_PROMPT",
    "NeptuneSparqlQAChain",
    "create_neptune_sparql_qa_chain",
    "extract_sparql",
]

_SPARQL_TEMPLATE = (
    "Write one SPARQL 1.1 query for Amazon Neptune that answers the question.\n"
    "Use only the classes and properties of this schema:\n{schema}\n{extra_instructions}\n"
    "Reply with the query alone in a ```sparql block, no explanation.\n\n"
    "Question: {prompt}"
)
DEFAULT_SPARQL_PROMPT = PromptTemplate.from_template(_SPARQL_TEMPLATE)
"""The query-writing prompt (``schema``, ``prompt``, ``extra_instructions``)."""
DEFAULT_SPARQL_QA_PROMPT = PromptTemplate.from_template(
    "Answer the question from these SPARQL results, in plain words. If they are empty, say "
    "you do not know.\n\nResults: {context}\n\nQuestion: {prompt}"
)
"""The answering prompt (``context``, ``prompt``)."""


def extract_sparql(text: str) -> str:
    """The query in a model's reply: the inside of one fenced block (without a ``sparql``
    tag) or of ``<sparql>...</sparql>``, else the reply."""
    text = text.strip()
    parts = text.split("```")
    if len(parts) == 3:
        inner = parts[1]
        return inner[6:] if inner.startswith("sparql") else inner
    if text.startswith("<sparql>") and text.endswith("</sparql>"):
        return text[8:-9]
    return text


class NeptuneSparqlQAChain(NeptuneQABase):
    """Questions answered from a Neptune RDF graph through model-written SPARQL."""

    question_variable = "prompt"

    llm: Any
    """The model that writes the query and the answer."""
    graph: NeptuneRdfGraph
    """The graph queried."""
    qa_prompt: Any = Field(default_factory=lambda: DEFAULT_SPARQL_QA_PROMPT)
    """Prompt of the answer (``context``, ``prompt``)."""
    sparql_prompt: Any = None
    """Prompt of the query; None: the default (with ``examples``)."""
    examples: str | None = None
    """Example questions and queries added to the default query prompt."""
    return_intermediate_steps: bool = False
    """Add ``intermediate_steps``: ``[{"query": ...}, {"context": result}]``."""
    return_direct: bool = False
    """Answer with the query's result, without the second model call."""
    extra_instructions: str | None = None
    """Text added to the query prompt."""
    allow_dangerous_requests: bool = False
    """Must be true: you accept that the chain runs model-written queries."""
    read_only: bool = True
    """Refuse SPARQL Update and SERVICE (see ``neptune_guard``); false allows them."""
    max_rows: int = Field(default=100, gt=0)
    """Refuse a result of more bindings."""
    max_result_bytes: int = Field(default=100_000, gt=0)
    """Refuse a result of more bytes (as JSON)."""

    def _query_prompt(self) -> Any:
        if self.sparql_prompt is not None:
            return self.sparql_prompt
        if self.examples:
            escaped = self.examples.replace("{", "{{").replace("}", "}}")  # SPARQL braces
            return PromptTemplate.from_template(
                _SPARQL_TEMPLATE.replace("Reply with", f"Examples:\n{escaped}\nReply with", 1)
            )
        return DEFAULT_SPARQL_PROMPT

    def _extract(self, reply: str) -> str:
        return extract_sparql(reply)

    def _check_read_only(self, query: str) -> None:
        check_sparql_read_only(query)

    def _run(self, query: str) -> Any:
        context = self.graph.query(query)
        rows = (context.get("results") or {}).get("bindings") or []
        check_result_size(rows, self.max_rows, self.max_result_bytes)
        check_result_size([context], 1, self.max_result_bytes)
        return context


def create_neptune_sparql_qa_chain(
    llm: Any,
    graph: NeptuneRdfGraph,
    qa_prompt: Any = None,
    sparql_prompt: Any = None,
    return_intermediate_steps: bool = False,
    return_direct: bool = False,
    extra_instructions: str | None = None,
    allow_dangerous_requests: bool = False,
    examples: str | None = None,
    **kwargs: Any,
) -> NeptuneSparqlQAChain:
    """langchain-aws's constructor: the chain as a serializable component."""
    return NeptuneSparqlQAChain(
        llm=llm,
        graph=graph,
        qa_prompt=qa_prompt or DEFAULT_SPARQL_QA_PROMPT,
        sparql_prompt=sparql_prompt,
        return_intermediate_steps=return_intermediate_steps,
        return_direct=return_direct,
        extra_instructions=extra_instructions,
        allow_dangerous_requests=allow_dangerous_requests,
        examples=examples,
        **kwargs,
    )
