"""``FormatDocuments``: retrieved documents joined into one text, for a prompt's context.

Each document is rendered with ``template`` (its ``page_content`` and its metadata keys
as variables, as LangChain's ``format_document`` does) and the texts are joined with
``separator``. f-string templates read top-level keys (``{page_content}``, ``{source}``);
mustache templates also reach nested metadata (``{{location.s3Location.uri}}``). jinja2
is not offered: a retrieval pipeline's template never needs to run code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import field_validator, model_validator

from runwire.errors import TemplateError
from runwire.runtime.config import RunnableConfig
from runwire.runtime.prompts.formatting import format_template, template_variables
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.documents import Document

__all__ = ["FormatDocuments", "document_values"]


def document_values(document: Document) -> dict[str, Any]:
    """The template variables of a document: its metadata and ``page_content``."""
    return {**document.metadata, "page_content": document.page_content}


class FormatDocuments(RunnableSerializable[Sequence[Document], str]):
    """A list of Documents in, one string out: each rendered, then joined.

    ``template`` defaults to ``"{page_content}"``, ``separator`` to a blank line. A
    variable a document's metadata lacks is an error naming the document.
    """

    template: str = "{page_content}"
    """The text of one document; variables: ``page_content`` and the metadata keys."""
    template_format: Literal["f-string", "mustache"] = "f-string"
    """``"f-string"`` (default) or ``"mustache"``."""
    separator: str = "\n\n"
    """Put between two rendered documents."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "documents"]

    @model_validator(mode="after")
    def _template_parses(self) -> FormatDocuments:
        template_variables(self.template, self.template_format)  # TemplateError when bad
        return self

    @field_validator("separator")
    @classmethod
    def _separator_is_short(cls, value: str) -> str:
        if len(value) > 1000:
            raise ValueError("separator is longer than 1000 characters")
        return value

    @property
    def InputType(self) -> Any:
        return list[Document]

    @property
    def OutputType(self) -> Any:
        return str

    def format(self, documents: Sequence[Document]) -> str:
        """The documents rendered and joined."""
        if isinstance(documents, Document | str) or not isinstance(documents, Sequence):
            raise TypeError(
                f"FormatDocuments takes a list of Documents, not {type(documents).__name__}"
            )
        texts = []
        for index, document in enumerate(documents):
            if not isinstance(document, Document):
                raise TypeError(
                    f"FormatDocuments: item {index} is a {type(document).__name__}, not a Document"
                )
            try:
                texts.append(
                    format_template(self.template, self.template_format, document_values(document))
                )
            except KeyError as exc:
                raise TemplateError(
                    f"FormatDocuments: document {index} has no metadata key {exc.args[0]!r} "
                    "for the template",
                    hint="use only keys every document has, or page_content",
                ) from None
        return self.separator.join(texts)

    def invoke(
        self, input: Sequence[Document], config: RunnableConfig | None = None, **kwargs: Any
    ) -> str:
        return self._call_with_config(lambda docs, _: self.format(docs), input, config)
