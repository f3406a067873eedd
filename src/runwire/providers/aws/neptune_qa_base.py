"""What the Neptune question-answering chains share (:mod:`.neptune_qa` for openCypher,
:mod:`.neptune_sparql_qa` for SPARQL): the acknowledgement of model-written queries, and
the steps of a call (model writes a query, it is checked and run, the model answers
from the result). Each chain says how its query is prompted, taken from the reply,
checked and run; it declares its own fields (their order is its wire form)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import model_validator

from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["NeptuneQABase", "reply_text"]


def reply_text(reply: Any) -> str:
    """The text of a model's reply (a message or a string)."""
    content = getattr(reply, "content", reply)
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


class NeptuneQABase(RunnableSerializable[Any, dict[str, Any]]):
    """A chain that answers ``{"query": question}`` (or the question alone) from a graph
    through a model-written query; the output is ``{"result": ...}``, plus
    ``intermediate_steps`` (``[{"query": ...}, {"context": result}]``) when asked."""

    question_variable: ClassVar[str] = "question"
    """The prompt variable that holds the question (both prompts)."""

    if TYPE_CHECKING:  # declared by each chain, in its own order
        llm: Any
        graph: Any
        qa_prompt: Any
        return_intermediate_steps: bool
        return_direct: bool
        extra_instructions: str | None
        allow_dangerous_requests: bool
        read_only: bool

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "aws"]

    @model_validator(mode="after")
    def _acknowledged(self) -> Self:
        if self.allow_dangerous_requests is not True:
            raise ValueError(
                "this chain runs queries a model writes on your database: set "
                "allow_dangerous_requests to true to acknowledge it, and give it credentials "
                "that can only read what it needs"
            )
        return self

    # -- what each chain says --------------------------------------------------------------
    def _query_prompt(self) -> Any:
        """The prompt of the query (``schema``, the question, ``extra_instructions``)."""
        raise NotImplementedError

    def _extract(self, reply: str) -> str:
        """The query in the model's reply text."""
        raise NotImplementedError

    def _check_read_only(self, query: str) -> None:
        """Raise when ``query`` could write (called when ``read_only``)."""
        raise NotImplementedError

    def _run(self, query: str) -> Any:
        """The query's result, after the size limits are checked."""
        raise NotImplementedError

    # -- a call ----------------------------------------------------------------------------
    def _steps(self, question: str, config: RunnableConfig) -> dict[str, Any]:
        inputs = {
            self.question_variable: question,
            "schema": self.graph.get_schema,
            "extra_instructions": self.extra_instructions or "",
        }
        reply = self.llm.invoke(self._query_prompt().invoke(inputs, config), config)
        query = self._extract(reply_text(reply))
        if self.read_only:
            self._check_read_only(query)
        result = self._run(query)
        steps: list[dict[str, Any]] = [{"query": query}]
        if self.return_direct:
            output: dict[str, Any] = {"result": result}
        else:
            answer_inputs = {self.question_variable: question, "context": result}
            answer = self.qa_prompt.invoke(answer_inputs, config)
            output = {"result": self.llm.invoke(answer, config)}
            steps.append({"context": result})
        if self.return_intermediate_steps:
            output["intermediate_steps"] = steps
        return output

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        question = input if isinstance(input, str) else input["query"]
        return self._call_with_config(lambda q, cfg: self._steps(q, cfg), question, config)
