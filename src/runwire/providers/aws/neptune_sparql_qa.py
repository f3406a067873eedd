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

from pydantic import Field, model_validator

from runwire.providers.aws.neptune_guard import check_result_size, check_sparql_read_only
from runwire.providers.aws.neptune_qa import reply_text
from runwire.providers.aws.neptune_rdf import NeptuneRdfGraph
from runwire.runtime.config import RunnableConfig
from runwire.runtime.prompts import PromptTemplate
from runwire.runtime.serializable import RunnableSerializable

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


class NeptuneSparqlQAChain(RunnableSerializable[Any, dict[str, Any]]):
    """Questions answered from a Neptune RDF graph through model-written SPARQL."""

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

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @model_validator(mode="after")
    def _acknowledged(self) -> NeptuneSparqlQAChain:
        if self.allow_dangerous_requests is not True:
            raise ValueError(
                "this chain runs queries a model writes on your database: set "
                "allow_dangerous_requests to true to acknowledge it, and give it credentials "
                "that can only read what it needs"
            )
        return self

    def _prompt(self) -> Any:
        if self.sparql_prompt is not None:
            return self.sparql_prompt
        if self.examples:
            escaped = self.examples.replace("{", "{{").replace("}", "}}")  # SPARQL braces
            return PromptTemplate.from_template(
                _SPARQL_TEMPLATE.replace("Reply with", f"Examples:\n{escaped}\nReply with", 1)
            )
        return DEFAULT_SPARQL_PROMPT

    def _steps(self, question: str, config: RunnableConfig) -> dict[str, Any]:
        inputs = {
            "prompt": question,
            "schema": self.graph.get_schema,
            "extra_instructions": self.extra_instructions or "",
        }
        reply = self.llm.invoke(self._prompt().invoke(inputs, config), config)
        sparql = extract_sparql(reply_text(reply))
        if self.read_only:
            check_sparql_read_only(sparql)
        context = self.graph.query(sparql)
        rows = (context.get("results") or {}).get("bindings") or []
        check_result_size(rows, self.max_rows, self.max_result_bytes)
        check_result_size([context], 1, self.max_result_bytes)
        steps: list[dict[str, Any]] = [{"query": sparql}]
        if self.return_direct:
            output: dict[str, Any] = {"result": context}
        else:
            answer = self.qa_prompt.invoke({"prompt": question, "context": context}, config)
            output = {"result": self.llm.invoke(answer, config)}
            steps.append({"context": context})
        if self.return_intermediate_steps:
            output["intermediate_steps"] = steps
        return output

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        question = input if isinstance(input, str) else input["query"]
        return self._call_with_config(lambda q, cfg: self._steps(q, cfg), question, config)


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
