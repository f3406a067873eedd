"""Chats and prompts as Bedrock ``InvokeModel`` inputs, per model family.

Prompt-string families (Llama, Mistral, DeepSeek, Titan, Cohere, AI21) get the chat
rendered into the family's template; block families (Anthropic's Messages API, Nova's
messages-v1) get merged user/assistant turns of content blocks. Each function returns
the input part of the request body; ``invoke_formats`` adds the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runwire.schema.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

__all__ = [
    "CONVERSE_HINT",
    "Body",
    "anthropic_chat",
    "anthropic_prompt",
    "deepseek_chat",
    "header_chat",
    "llama2_chat",
    "mistral_chat",
    "nova_chat",
    "nova_prompt",
    "prompt_as",
    "transcript_chat",
]

Body = dict[str, Any]
CONVERSE_HINT = "set beta_use_converse_api=True to call it through the Converse API"


# -- messages as text ----------------------------------------------------------------------
def _plain_text(message: BaseMessage) -> str:
    if isinstance(message.content, str):
        return message.content
    parts = []
    for block in message.content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        else:
            raise ValueError(
                f"this model takes a text prompt: a {block.get('type')!r} content block "
                f"cannot be sent; {CONVERSE_HINT}, or use an anthropic model"
            )
    return "".join(parts)


def _turns(messages: Sequence[BaseMessage]) -> tuple[str, list[tuple[str, str]]]:
    """(system text, [(role, text)]) of a chat, for the prompt formats."""
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        if isinstance(message, ToolMessage) or (
            isinstance(message, AIMessage) and message.tool_calls
        ):
            raise NotImplementedError(
                "tool calls and tool results cannot be written into this model's text "
                f"prompt: {CONVERSE_HINT}"
            )
        if isinstance(message, SystemMessage):
            system.append(_plain_text(message))
        elif isinstance(message, HumanMessage):
            turns.append(("user", _plain_text(message)))
        elif isinstance(message, AIMessage):
            turns.append(("assistant", _plain_text(message)))
        else:
            raise TypeError(f"cannot send a {type(message).__name__} to a Bedrock model")
    return "\n\n".join(system), turns


def llama2_chat(messages: Sequence[BaseMessage]) -> Body:
    system, turns = _turns(messages)
    sys_block = f"<<SYS>>\n{system}\n<</SYS>>\n\n" if system else ""
    parts = []
    for role, text in turns or [("user", "")]:
        if role == "user":
            parts.append(f"<s>[INST] {sys_block}{text} [/INST]")
            sys_block = ""
        else:
            parts.append(f" {text} </s>")
    return {"prompt": "".join(parts)}


def header_chat(
    begin: str, start: str, end: str, eot: str
) -> Callable[[Sequence[BaseMessage]], Body]:
    """Llama 3/4 prompts: one ``start role end`` header per message, then the reply's."""

    def render(messages: Sequence[BaseMessage]) -> Body:
        system, turns = _turns(messages)
        rows = ([("system", system)] if system else []) + turns
        body = "".join(f"{start}{role}{end}\n\n{text}{eot}" for role, text in rows)
        return {"prompt": f"{begin}{body}{start}assistant{end}\n\n"}

    return render


def mistral_chat(messages: Sequence[BaseMessage]) -> Body:
    system, turns = _turns(messages)
    prefix = f"{system}\n\n" if system else ""
    parts = ["<s>"]
    for role, text in turns or [("user", "")]:
        if role == "user":
            parts.append(f"[INST] {prefix}{text} [/INST]")
            prefix = ""
        else:
            parts.append(f"{text}</s>")
    return {"prompt": "".join(parts)}


_DS_BOS, _DS_EOS = (
    "<\uff5cbegin\u2581of\u2581sentence\uff5c>",
    "<\uff5cend\u2581of\u2581sentence\uff5c>",
)
_DS_USER, _DS_ASSISTANT = "<\uff5cUser\uff5c>", "<\uff5cAssistant\uff5c>"


def deepseek_chat(messages: Sequence[BaseMessage]) -> Body:
    system, turns = _turns(messages)
    parts = [_DS_BOS, system]
    for role, text in turns:
        parts.append(f"{_DS_USER}{text}" if role == "user" else f"{_DS_ASSISTANT}{text}{_DS_EOS}")
    parts.append(f"{_DS_ASSISTANT}<think>\n")
    return {"prompt": "".join(parts)}


def transcript_chat(key: str) -> Callable[[Sequence[BaseMessage]], Body]:
    """A ``User: ... / Bot:`` transcript ending with the reply's label (Titan's format;
    Cohere Command and AI21 Jurassic have no chat template of their own)."""

    def render(messages: Sequence[BaseMessage]) -> Body:
        system, turns = _turns(messages)
        lines = [system] if system else []
        lines += [f"{'User' if role == 'user' else 'Bot'}: {text}" for role, text in turns]
        lines.append("Bot:")
        return {key: "\n".join(lines)}

    return render


def prompt_as(key: str) -> Callable[[str], Body]:
    return lambda prompt: {key: prompt}


# -- messages as blocks (Anthropic Messages API, Nova messages-v1) --------------------------
def _data_url(url: str) -> tuple[str, str]:
    """(media type, base64 data) of a ``data:`` URL."""
    head, sep, data = url.partition(",")
    if not (url.startswith("data:") and sep and head.endswith(";base64")):
        raise ValueError(
            "Bedrock models take images as base64 data URLs (data:image/png;base64,...), "
            "not links: download the image and pass its bytes"
        )
    return head[5:-7], data


def _image_url(block: dict[str, Any]) -> str:
    url = block.get("image_url")
    return str(url.get("url") if isinstance(url, dict) else url)


_ANTHROPIC_TEXT_KEYS = ("type", "text", "cache_control", "citations")


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for item in [content] if isinstance(content, str) else content:
        block = {"type": "text", "text": item} if isinstance(item, str) else item
        kind = block.get("type")
        if kind == "text":
            if str(block.get("text", "")).strip():  # empty text blocks are rejected
                blocks.append({k: block[k] for k in _ANTHROPIC_TEXT_KEYS if k in block})
        elif kind == "image_url":
            media_type, data = _data_url(_image_url(block))
            source = {"type": "base64", "media_type": media_type, "data": data}
            blocks.append({"type": "image", "source": source})
        else:
            drop = ("index", "partial_json") if kind == "tool_use" else ("index",)
            blocks.append({k: v for k, v in block.items() if k not in drop})
    return blocks


def _tool_use(call: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call["id"], "name": call["name"], "input": call["args"]}


def _anthropic_message(message: BaseMessage) -> dict[str, Any]:
    if isinstance(message, HumanMessage):
        content = message.content if isinstance(message.content, str) else None
        return {"role": "user", "content": content or _anthropic_blocks(message.content)}
    if isinstance(message, ToolMessage):
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.content
            if isinstance(message.content, str)
            else _anthropic_blocks(message.content),
        }
        if message.status == "error":
            result["is_error"] = True
        return {"role": "user", "content": [result]}
    if isinstance(message, AIMessage):
        if isinstance(message.content, str) and not message.tool_calls:
            return {"role": "assistant", "content": message.content}
        calls = {call["id"]: call for call in message.tool_calls}
        blocks = []
        for block in _anthropic_blocks(message.content):
            if block.get("type") == "tool_use" and block.get("id") in calls:
                block = _tool_use(calls.pop(block["id"]))  # the parsed call wins
            blocks.append(block)
        blocks += [_tool_use(call) for call in calls.values()]
        return {"role": "assistant", "content": blocks}
    raise TypeError(f"cannot send a {type(message).__name__} to an Anthropic model")


def _as_blocks(content: Any) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)


def _merge_roles(messages: list[dict[str, Any]], blocks: Callable[[Any], list[Any]]) -> list[Any]:
    """Consecutive messages of one role as one message (the APIs want turns to alternate)."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            previous = merged[-1]
            previous["content"] = blocks(previous["content"]) + blocks(message["content"])
        else:
            merged.append(message)
    return merged


def _system_blocks(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            blocks += [b for b in _anthropic_blocks(message.content) if b.get("type") == "text"]
    return blocks


def anthropic_chat(messages: Sequence[BaseMessage]) -> Body:
    system = _system_blocks(messages)
    turns = [_anthropic_message(m) for m in messages if not isinstance(m, SystemMessage)]
    body: Body = {"messages": _merge_roles(turns, _as_blocks)}
    if any(set(block) != {"type", "text"} for block in system):
        body["system"] = system  # cache_control and friends need blocks
    elif system:
        body["system"] = "\n\n".join(block["text"] for block in system)
    return body


def anthropic_prompt(prompt: str) -> Body:
    return {"messages": [{"role": "user", "content": prompt}]}


def _nova_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for item in [content] if isinstance(content, str) else content:
        if isinstance(item, str):
            blocks.append({"text": item})
        elif item.get("type") == "text":
            blocks.append({"text": item.get("text", "")})
        elif item.get("type") == "image_url":
            media_type, data = _data_url(_image_url(item))
            image_format = media_type.rsplit("/", 1)[-1]
            blocks.append({"image": {"format": image_format, "source": {"bytes": data}}})
        elif "type" not in item:  # already a Nova block ({"text": ...}, {"image": ...})
            blocks.append(item)
        else:
            raise ValueError(f"Nova models over InvokeModel cannot take a {item['type']!r} block")
    return blocks


def _nova_message(message: BaseMessage) -> dict[str, Any]:
    if isinstance(message, ToolMessage):
        result: dict[str, Any] = {
            "toolUseId": message.tool_call_id,
            "content": _nova_blocks(message.content),
        }
        if message.status == "error":
            result["status"] = "error"
        return {"role": "user", "content": [{"toolResult": result}]}
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": _nova_blocks(message.content)}
    if isinstance(message, AIMessage):
        blocks = [b for b in _nova_blocks(message.content) if b.get("text", True)]
        blocks += [
            {"toolUse": {"toolUseId": c["id"], "name": c["name"], "input": c["args"]}}
            for c in message.tool_calls
        ]
        return {"role": "assistant", "content": blocks}
    raise TypeError(f"cannot send a {type(message).__name__} to a Nova model")


def nova_chat(messages: Sequence[BaseMessage]) -> Body:
    system = [{"text": _plain_text(m)} for m in messages if isinstance(m, SystemMessage)]
    turns = [_nova_message(m) for m in messages if not isinstance(m, SystemMessage)]
    body: Body = {"schemaVersion": "messages-v1"}
    if system:
        body["system"] = system
    body["messages"] = _merge_roles(turns, list)
    return body


def nova_prompt(prompt: str) -> Body:
    return {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
    }
