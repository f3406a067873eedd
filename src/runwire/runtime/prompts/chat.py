"""Chat prompts: message templates, message placeholders and ``ChatPromptTemplate``.

``ChatPromptTemplate.from_messages`` takes what LangChain takes: ``(role, template)``
pairs (roles system, human/user, ai/assistant, placeholder), template strings (human),
``{"role": ..., "content": ...}`` dicts, fixed messages (kept as they are), message
templates, placeholders and nested chat prompts. The same coercion runs when a manifest
is loaded, so ``messages: [[system, "You are {role}."], [human, "{q}"]]`` works there.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import Field, PositiveInt, field_validator, model_validator

from runwire.runtime.prompts.base import BasePromptTemplate
from runwire.runtime.prompts.blocks import (
    BlockTemplate,
    block_template,
    block_variables,
    format_blocks,
    single_template,
)
from runwire.runtime.prompts.formatting import TEMPLATE_FORMATS, PromptTemplateFormat
from runwire.runtime.prompts.limits import OutputBudget
from runwire.runtime.prompts.string import PromptTemplate, StringPromptTemplate
from runwire.runtime.prompts.values import ChatPromptValue
from runwire.schema.coerce import convert_to_messages
from runwire.schema.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from runwire.schema.serializable import Serializable

__all__ = [
    "AIMessagePromptTemplate",
    "BaseChatPromptTemplate",
    "BaseMessagePromptTemplate",
    "ChatMessagePromptTemplate",
    "ChatPromptTemplate",
    "HumanMessagePromptTemplate",
    "MessagesPlaceholder",
    "SystemMessagePromptTemplate",
]


class BaseMessagePromptTemplate(Serializable, ABC):
    """A template for zero or more messages of a chat prompt."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "prompts"]

    @property
    @abstractmethod
    def input_variables(self) -> list[str]:
        """Variables the caller must give."""

    @abstractmethod
    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages this template makes from ``kwargs``."""

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async ``format_messages``."""
        return self.format_messages(**kwargs)

    def __add__(self, other: Any) -> ChatPromptTemplate:
        return ChatPromptTemplate(messages=[self]) + other


class MessagesPlaceholder(BaseMessagePromptTemplate):
    """Stands for a list of messages given in the variable ``variable_name``.

    The list may hold messages, ``(role, content)`` pairs, strings (human messages) or
    message dicts. ``optional=True`` makes the variable optional (default ``[]``);
    ``n_messages`` keeps only the last n messages.
    """

    variable_name: str
    optional: bool = False
    n_messages: PositiveInt | None = None

    lc_positional = "variable_name"

    @property
    def input_variables(self) -> list[str]:
        return [] if self.optional else [self.variable_name]

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        name = self.variable_name
        if self.optional:
            value = kwargs.get(name, [])
        elif name in kwargs:
            value = kwargs[name]
        else:
            raise KeyError(f"missing messages variable {name!r} (MessagesPlaceholder)")
        if not isinstance(value, list | tuple):
            raise ValueError(
                f"variable {name!r} should be a list of messages, got {type(value).__name__}"
            )
        messages = convert_to_messages(value)
        if self.n_messages:
            messages = messages[-self.n_messages :]
        return messages


_IGNORED_KWARGS = frozenset(("additional_options",))
"""Kwargs LangChain.js writes for message templates; langchain-core ignores them when
loading and never writes them, and so does runwire."""


class _StringMessagePromptTemplate(BaseMessagePromptTemplate):
    """One message whose content is a template, or a list of content-block templates."""

    prompt: StringPromptTemplate | list[BlockTemplate]
    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    additional_options: dict[str, Any] | None = Field(default=None, exclude=True)
    """Read and dropped: LangChain.js writes it, langchain-core ignores it."""

    lc_data_fields = frozenset({"additional_options"})

    message_class: ClassVar[type[BaseMessage]]

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            if len(args) > 1 or "prompt" in kwargs:
                raise TypeError(f"{cls.__name__}() takes one positional argument (prompt)")
            kwargs["prompt"] = args[0]
        return kwargs

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, values: Any) -> Any:
        if isinstance(values, dict) and not _IGNORED_KWARGS.isdisjoint(values):
            return {k: v for k, v in values.items() if k not in _IGNORED_KWARGS}
        return values

    @field_validator("prompt", mode="before")
    @classmethod
    def _coerce_prompt(cls, value: Any) -> Any:
        if isinstance(value, StringPromptTemplate):  # built already (a loaded node)
            return value
        if isinstance(value, list | tuple):
            return [block_template(item, "f-string") for item in value]
        return single_template(value, "f-string")

    @classmethod
    def from_template(
        cls,
        template: str | Sequence[str | dict[str, Any]],
        template_format: PromptTemplateFormat = "f-string",
        *,
        partial_variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A message template from a template string, or a list of content blocks (text,
        ``image_url`` and other dict blocks; see :mod:`runwire.runtime.prompts.blocks`)."""
        if isinstance(template, str):
            prompt: Any = PromptTemplate.from_template(
                template, template_format=template_format, partial_variables=partial_variables
            )
        elif isinstance(template, Sequence):
            if partial_variables:
                raise ValueError("partial variables are not supported for a list of templates")
            prompt = [block_template(item, template_format) for item in template]
        else:
            raise ValueError(f"invalid message template: {template!r}")
        return cls(prompt=prompt, **kwargs)

    @property
    def input_variables(self) -> list[str]:
        if isinstance(self.prompt, list):
            return block_variables(self.prompt)
        return self.prompt.input_variables

    def format(self, **kwargs: Any) -> BaseMessage:
        """The message, its content filled in from ``kwargs``."""
        content: Any
        if isinstance(self.prompt, StringPromptTemplate):
            content = self.prompt.format(**kwargs)
        else:
            content = format_blocks(self.prompt, kwargs)
        data: dict[str, Any] = {"content": content}
        if self.additional_kwargs:
            data["additional_kwargs"] = self.additional_kwargs
        return self.message_class.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]

    async def aformat(self, **kwargs: Any) -> BaseMessage:
        """Async ``format``."""
        return self.format(**kwargs)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        return [self.format(**kwargs)]


class HumanMessagePromptTemplate(_StringMessagePromptTemplate):
    """A template for a human (user) message."""

    message_class = HumanMessage


class AIMessagePromptTemplate(_StringMessagePromptTemplate):
    """A template for an AI (assistant) message."""

    message_class = AIMessage


class SystemMessagePromptTemplate(_StringMessagePromptTemplate):
    """A template for a system message."""

    message_class = SystemMessage


class ChatMessagePromptTemplate(_StringMessagePromptTemplate):
    """A template for a message with any role (a ``ChatMessage``): the prompt is one
    string template, as in LangChain. ``ChatMessagePromptTemplate.from_template("{q}",
    role="critic")``"""

    prompt: StringPromptTemplate  # type: ignore[assignment]
    role: str
    """The message's role."""

    def format(self, **kwargs: Any) -> BaseMessage:
        """The ``ChatMessage``, its content filled in from ``kwargs``."""
        data: dict[str, Any] = {"content": self.prompt.format(**kwargs), "role": self.role}
        if self.additional_kwargs:
            data["additional_kwargs"] = self.additional_kwargs
        return ChatMessage.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]


_ROLE_TEMPLATES: dict[str, type[_StringMessagePromptTemplate]] = {
    "human": HumanMessagePromptTemplate,
    "user": HumanMessagePromptTemplate,
    "ai": AIMessagePromptTemplate,
    "assistant": AIMessagePromptTemplate,
    "system": SystemMessagePromptTemplate,
}


def _placeholder(template: Any) -> MessagesPlaceholder:
    """``"{name}"`` (optional) or ``["{name}", is_optional]``."""
    optional: Any = True
    if not isinstance(template, str):
        try:
            template, optional = template
        except (TypeError, ValueError):
            raise ValueError(
                f"a placeholder is '{{name}}' or ['{{name}}', is_optional], got {template!r}"
            ) from None
        if not isinstance(optional, bool):
            raise ValueError(f"a placeholder's is_optional must be a bool, got {optional!r}")
    if not (isinstance(template, str) and len(template) > 2 and template[0] + template[-1] == "{}"):
        raise ValueError(
            f"invalid placeholder {template!r}: write the variable name in braces, "
            "e.g. '{history}'"
        )
    return MessagesPlaceholder(variable_name=template[1:-1], optional=optional)


def _from_role(role: Any, template: Any, template_format: str) -> Any:
    if isinstance(role, type) and issubclass(role, _StringMessagePromptTemplate):
        return role(prompt=PromptTemplate.from_template(template, template_format=template_format))  # type: ignore[arg-type]
    if isinstance(role, type) and issubclass(role, BaseMessage):
        role = role.model_fields["type"].default
    if role == "placeholder":
        return _placeholder(template)
    cls = _ROLE_TEMPLATES.get(role) if isinstance(role, str) else None
    if cls is None:
        raise ValueError(
            f"unexpected message role {role!r}: use one of 'human', 'user', 'ai', "
            "'assistant', 'system' or 'placeholder'"
        )
    return cls.from_template(template, template_format=template_format)  # type: ignore[arg-type]


def _message_like(message: Any, template_format: str = "f-string") -> Any:
    """A message, message template or chat prompt from any accepted representation."""
    if isinstance(message, _MESSAGE_LIKE):
        return message
    if isinstance(message, str):
        return HumanMessagePromptTemplate.from_template(message, template_format=template_format)  # type: ignore[arg-type]
    if isinstance(message, dict):
        if set(message) != {"role", "content"}:
            raise ValueError(
                f"a message dict must have exactly the keys 'role' and 'content', "
                f"got {sorted(message)}"
            )
        return _from_role(message["role"], message["content"], template_format)
    if isinstance(message, list | tuple):
        if len(message) != 2:
            raise ValueError(f"expected a (role, template) pair, got {len(message)} items")
        return _from_role(message[0], message[1], template_format)
    raise ValueError(
        f"cannot use a {type(message).__name__} as a chat message: expected a (role, "
        "template) pair, a template string, a message or a message template"
    )


_validate_chat_value = ChatPromptValue.__pydantic_validator__.validate_python


def _content_text(content: Any) -> str:
    """The rendered text of a message's content (text blocks, and image URLs)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, dict):
            image = block.get("image_url")
            url = image.get("url") if isinstance(image, dict) else None
            parts.extend(v for v in (block.get("text"), url) if isinstance(v, str))
    return "".join(parts)


def _renders_cheaply(message: Any) -> bool:
    """Whether a chat prompt's message renders fast enough to run on the event loop."""
    if isinstance(message, BaseChatPromptTemplate):
        return bool(message.sync_is_cheap)
    prompt = getattr(message, "prompt", None)
    if isinstance(prompt, list):
        return all(item.sync_is_cheap for item in prompt)
    return prompt is None or bool(prompt.sync_is_cheap)


class BaseChatPromptTemplate(BasePromptTemplate, ABC):
    """A prompt that formats to messages (a :class:`ChatPromptValue`); chat prompts can
    nest it among their messages."""

    @abstractmethod
    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages, filled from ``kwargs`` and the partial variables."""

    async def aformat_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Async ``format_messages``."""
        return self.format_messages(**kwargs)

    def format_prompt(self, **kwargs: Any) -> ChatPromptValue:
        """The messages as a :class:`ChatPromptValue`."""
        return _validate_chat_value({"messages": self.format_messages(**kwargs)})  # type: ignore[no-any-return]

    def format(self, **kwargs: Any) -> str:
        """The messages as one transcript string (``"System: ...\\nHuman: ..."``)."""
        return self.format_prompt(**kwargs).to_string()


_TEMPLATES = (BaseMessagePromptTemplate, BaseChatPromptTemplate)
"""What a chat prompt's message may be besides a fixed message: these have variables."""
_MESSAGE_LIKE = (BaseMessage, *_TEMPLATES)
"""A chat prompt's messages as they are kept (anything else is coerced)."""


class ChatPromptTemplate(BaseChatPromptTemplate):
    """A prompt for chat models: a list of message templates and fixed messages.

    ``ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{q}")])``
    """

    messages: list[Any]
    """Message templates, placeholders, fixed messages and nested chat prompts."""
    validate_template: bool = False
    """Check that the given ``input_variables`` equal the inferred ones."""
    template_format: PromptTemplateFormat | None = Field(default=None, exclude=True)
    """How ``(role, template)`` pairs and strings among ``messages`` are read (default
    f-string); used while constructing, then dropped (None), as in LangChain."""

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """Inline in async calls unless a message template is mustache or jinja2."""
        return all(_renders_cheaply(message) for message in self.messages)

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:
            if len(args) > 1 or "messages" in kwargs:
                raise TypeError("ChatPromptTemplate() takes one positional argument (messages)")
            kwargs["messages"] = args[0]
        return kwargs

    @model_validator(mode="before")
    @classmethod
    def _infer_variables(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        # template_format is how message representations are read (LangChain's
        # constructor argument, which LangChain.js also writes): used here, never stored
        template_format = values.get("template_format") or "f-string"
        if template_format not in TEMPLATE_FORMATS:
            raise ValueError(
                f"template_format must be one of {sorted(TEMPLATE_FORMATS)}, "
                f"got {template_format!r}"
            )
        if "template_format" in values:
            values = {k: v for k, v in values.items() if k != "template_format"}
        if "messages" not in values:
            return values
        raw = values["messages"]
        if not isinstance(raw, list | tuple):
            raise ValueError(f"messages must be a list, got {type(raw).__name__}")
        messages = [
            m if isinstance(m, _MESSAGE_LIKE) else _message_like(m, template_format) for m in raw
        ]
        partials = dict(values.get("partial_variables") or {})
        input_types = dict(values.get("input_types") or {})
        names: set[str] = set()
        optional: list[str] = []
        for message in messages:
            if not isinstance(message, _TEMPLATES):
                continue
            names.update(message.input_variables)
            if isinstance(message, MessagesPlaceholder):
                if message.optional and message.variable_name not in partials:
                    partials[message.variable_name] = []
                    optional.append(message.variable_name)
                input_types.setdefault(message.variable_name, list[AnyMessage])
        names.difference_update(partials)
        out = dict(values)
        out["messages"] = messages
        out["partial_variables"] = partials
        out["input_types"] = input_types
        if values.get("validate_template") and "input_variables" in values:
            if names != set(values["input_variables"]):
                raise ValueError(
                    f"input_variables {sorted(values['input_variables'])} do not match the "
                    f"messages' variables {sorted(names)}"
                )
        else:
            out["input_variables"] = sorted(names)
        if optional:
            given = values.get("optional_variables") or ()
            out["optional_variables"] = sorted({*given, *optional})
        return out

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_messages(
        cls, messages: Sequence[Any], template_format: PromptTemplateFormat = "f-string"
    ) -> ChatPromptTemplate:
        """A chat prompt from message representations (see the module docstring)."""
        return cls(messages=list(messages), template_format=template_format)

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> ChatPromptTemplate:
        """A chat prompt of one human message template."""
        prompt = PromptTemplate.from_template(template, **kwargs)
        return cls.from_messages([HumanMessagePromptTemplate(prompt=prompt)])

    # -- formatting --------------------------------------------------------------------
    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The messages, templates filled from ``kwargs`` and the partial variables."""
        values = self._merge_partials(kwargs)
        out: list[BaseMessage] = []
        budget: OutputBudget | None = None
        for message in self.messages:
            if isinstance(message, BaseMessage):
                out.append(message)
            elif isinstance(message, _StringMessagePromptTemplate):
                # every template is bounded; their sum is too (MAX_TEMPLATE_OUTPUT)
                rendered = message.format(**values)
                budget = budget or OutputBudget("chat prompt's")
                budget.add(_content_text(rendered.content))
                out.append(rendered)
            else:
                out.extend(message.format_messages(**values))
        return out

    # -- composition -------------------------------------------------------------------
    def __add__(self, other: Any) -> ChatPromptTemplate:
        """A chat prompt with ``other``'s messages appended (partials merged)."""
        partials = dict(self.partial_variables)
        if isinstance(other, ChatPromptTemplate):
            partials.update(other.partial_variables)
            messages = [*self.messages, *other.messages]
        elif isinstance(other, BaseMessagePromptTemplate | BaseMessage):
            messages = [*self.messages, other]
        elif isinstance(other, list | tuple):
            messages = [*self.messages, *ChatPromptTemplate.from_messages(other).messages]
        elif isinstance(other, str):
            messages = [*self.messages, HumanMessagePromptTemplate.from_template(other)]
        else:
            return NotImplemented
        return ChatPromptTemplate(messages=messages).partial(**partials)

    def __len__(self) -> int:
        return len(self.messages)

    def __getitem__(self, index: int | slice) -> Any:
        """A message (by index) or a new chat prompt of the sliced messages."""
        if isinstance(index, slice):
            return ChatPromptTemplate.from_messages(self.messages[index])
        return self.messages[index]
