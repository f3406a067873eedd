"""Prompt templates: string prompts, chat prompts, and the prompt values they produce."""

from runwire.runtime.prompts.base import BasePromptTemplate
from runwire.runtime.prompts.chat import (
    AIMessagePromptTemplate,
    BaseMessagePromptTemplate,
    ChatPromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    SystemMessagePromptTemplate,
)
from runwire.runtime.prompts.formatting import (
    TEMPLATE_FORMATS,
    PromptTemplateFormat,
    TemplateFormat,
    format_template,
    template_variables,
)
from runwire.runtime.prompts.string import PromptTemplate
from runwire.runtime.prompts.values import (
    ChatPromptValue,
    ChatPromptValueConcrete,
    PromptValue,
    StringPromptValue,
)
from runwire.schema.coerce import convert_to_messages, get_buffer_string

__all__ = [
    "TEMPLATE_FORMATS",
    "AIMessagePromptTemplate",
    "BaseMessagePromptTemplate",
    "BasePromptTemplate",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "ChatPromptValueConcrete",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptTemplateFormat",
    "PromptValue",
    "StringPromptValue",
    "SystemMessagePromptTemplate",
    "TemplateFormat",
    "convert_to_messages",
    "format_template",
    "get_buffer_string",
    "template_variables",
]
