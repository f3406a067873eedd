"""Prompt templates: string, chat, image, dict, few-shot and structured prompts, and the
prompt values they produce."""

from runwire.runtime.prompts.base import BasePromptTemplate
from runwire.runtime.prompts.chat import (
    AIMessagePromptTemplate,
    BaseChatPromptTemplate,
    BaseMessagePromptTemplate,
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    SystemMessagePromptTemplate,
)
from runwire.runtime.prompts.dict import DictPromptTemplate
from runwire.runtime.prompts.few_shot import (
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
)
from runwire.runtime.prompts.few_shot_with_templates import FewShotPromptWithTemplates
from runwire.runtime.prompts.formatting import (
    TEMPLATE_FORMATS,
    PromptTemplateFormat,
    TemplateFormat,
    format_template,
    template_variables,
)
from runwire.runtime.prompts.image import ImagePromptTemplate
from runwire.runtime.prompts.string import PromptTemplate, StringPromptTemplate
from runwire.runtime.prompts.structured import StructuredPrompt
from runwire.runtime.prompts.values import (
    ChatPromptValue,
    ChatPromptValueConcrete,
    ImagePromptValue,
    PromptValue,
    StringPromptValue,
)
from runwire.schema.coerce import convert_to_messages, get_buffer_string

__all__ = [
    "TEMPLATE_FORMATS",
    "AIMessagePromptTemplate",
    "BaseChatPromptTemplate",
    "BaseMessagePromptTemplate",
    "BasePromptTemplate",
    "ChatMessagePromptTemplate",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "ChatPromptValueConcrete",
    "DictPromptTemplate",
    "FewShotChatMessagePromptTemplate",
    "FewShotPromptTemplate",
    "FewShotPromptWithTemplates",
    "HumanMessagePromptTemplate",
    "ImagePromptTemplate",
    "ImagePromptValue",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptTemplateFormat",
    "PromptValue",
    "StringPromptTemplate",
    "StringPromptValue",
    "StructuredPrompt",
    "SystemMessagePromptTemplate",
    "TemplateFormat",
    "convert_to_messages",
    "format_template",
    "get_buffer_string",
    "template_variables",
]
