"""The message and data cases of ``write_langchain_fixtures.py``.

Messages (every type, chunk and content form), documents, generations, agent steps and
prompt values, each with the fields to compare.
"""

from __future__ import annotations

from langchain_cases import Case, Probe, attrs


def data_cases() -> list[Case]:
    from langchain_core import agents, outputs, prompt_values
    from langchain_core import messages as m
    from langchain_core.documents import Document

    tool_call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1", "type": "tool_call"}
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 2},
    }
    msg_attrs = attrs("type", "content", "text", "id", "name", "additional_kwargs")
    ai_attrs = [*msg_attrs, *attrs("tool_calls", "invalid_tool_calls", "usage_metadata")]
    blocks = [
        {"type": "text", "text": "look:"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
    return [
        # messages ---------------------------------------------------------------
        Case("ai_message", lambda: m.AIMessage("hi there"), ai_attrs),
        Case(
            "ai_message_full",
            lambda: m.AIMessage(
                content=blocks,
                id="run-1",
                name="bot",
                tool_calls=[tool_call],
                usage_metadata=usage,
                response_metadata={"stop_reason": "tool_use"},
                additional_kwargs={"k": [1, 2]},
            ),
            ai_attrs,
        ),
        Case(
            "ai_message_invalid_tool_call",
            lambda: m.AIMessage(
                "",
                invalid_tool_calls=[
                    {
                        "name": "f",
                        "args": "{bad",
                        "id": "c9",
                        "error": "bad json",
                        "type": "invalid_tool_call",
                    }
                ],
            ),
            ai_attrs,
        ),
        Case(
            "ai_message_chunk",
            lambda: m.AIMessageChunk(
                "par",
                tool_call_chunks=[{"name": "lookup", "args": '{"q"', "id": "c1", "index": 0}],
            ),
            [*ai_attrs, *attrs("tool_call_chunks")],
        ),
        Case(
            "ai_message_reasoning_v1",
            lambda: m.AIMessage(
                content=[
                    {"type": "reasoning", "reasoning": "think"},
                    {"type": "text", "text": "answer"},
                ],
                response_metadata={"output_version": "v1", "model_provider": "bedrock_converse"},
            ),
            ai_attrs,
        ),
        Case(
            "human_message_v1_image",
            lambda: m.HumanMessage(
                [
                    {"type": "text", "text": "see"},
                    {"type": "image", "url": "https://example.com/a.png"},
                ]
            ),
            msg_attrs,
        ),
        Case("human_message", lambda: m.HumanMessage("hello", id="h1"), msg_attrs),
        Case("human_message_blocks", lambda: m.HumanMessage(blocks), msg_attrs),
        Case("human_message_chunk", lambda: m.HumanMessageChunk("hel"), msg_attrs),
        Case("system_message", lambda: m.SystemMessage("be brief", name="sys"), msg_attrs),
        Case("system_message_chunk", lambda: m.SystemMessageChunk("be"), msg_attrs),
        Case(
            "tool_message",
            lambda: m.ToolMessage(
                "42", tool_call_id="call_1", artifact={"raw": [4, 2]}, status="success"
            ),
            [*msg_attrs, *attrs("tool_call_id", "artifact", "status")],
        ),
        Case(
            "tool_message_error",
            lambda: m.ToolMessage("boom", tool_call_id="call_2", status="error"),
            [*msg_attrs, *attrs("tool_call_id", "status")],
        ),
        Case(
            "tool_message_named",
            lambda: m.ToolMessage(
                [{"type": "text", "text": "r"}], tool_call_id="c3", name="lookup", id="t1"
            ),
            [*msg_attrs, *attrs("tool_call_id")],
        ),
        Case(
            "ai_message_chunk_last",
            lambda: m.AIMessageChunk("done", chunk_position="last", response_metadata={"a": 1}),
            ai_attrs,
        ),
        Case(
            "tool_message_chunk",
            lambda: m.ToolMessageChunk("4", tool_call_id="call_1"),
            [*msg_attrs, *attrs("tool_call_id")],
        ),
        Case(
            "chat_message", lambda: m.ChatMessage("hi", role="critic"), [*msg_attrs, *attrs("role")]
        ),
        Case(
            "chat_message_chunk",
            lambda: m.ChatMessageChunk("h", role="critic"),
            [*msg_attrs, *attrs("role")],
        ),
        Case("function_message", lambda: m.FunctionMessage("7", name="add"), msg_attrs),
        Case("function_message_chunk", lambda: m.FunctionMessageChunk("7", name="add"), msg_attrs),
        Case("remove_message", lambda: m.RemoveMessage(id="m-1"), attrs("type", "id")),
        # documents, generations, agents ---------------------------------------------
        Case(
            "document",
            lambda: Document("some text", metadata={"source": "a.txt", "page": 2}, id="d1"),
            attrs("page_content", "metadata", "id", "type"),
        ),
        Case(
            "generation",
            lambda: outputs.Generation(text="out", generation_info={"finish_reason": "stop"}),
            attrs("text", "generation_info", "type"),
        ),
        Case("generation_chunk", lambda: outputs.GenerationChunk(text="ou"), attrs("text", "type")),
        Case(
            "chat_generation",
            lambda: outputs.ChatGeneration(message=m.AIMessage("yes"), generation_info={"a": 1}),
            attrs("text", "message", "generation_info", "type"),
        ),
        Case(
            "chat_generation_chunk",
            lambda: outputs.ChatGenerationChunk(message=m.AIMessageChunk("y")),
            attrs("text", "message", "type"),
        ),
        Case(
            "agent_action",
            lambda: agents.AgentAction(tool="search", tool_input={"q": "x"}, log="thinking"),
            attrs("tool", "tool_input", "log", "type", "messages"),
        ),
        Case(
            "agent_action_message_log",
            lambda: agents.AgentActionMessageLog(
                tool="search", tool_input="x", log="l", message_log=[m.AIMessage("call search")]
            ),
            attrs("tool", "tool_input", "log", "message_log", "type", "messages"),
        ),
        Case(
            "agent_finish",
            lambda: agents.AgentFinish(return_values={"output": "done"}, log="fin"),
            attrs("return_values", "log", "type", "messages"),
        ),
        # prompt values ------------------------------------------------------------
        Case(
            "string_prompt_value",
            lambda: prompt_values.StringPromptValue(text="hi"),
            [Probe("to_string"), Probe("to_messages")],
        ),
        Case(
            "chat_prompt_value",
            lambda: prompt_values.ChatPromptValue(
                messages=[m.SystemMessage("s"), m.HumanMessage("h")]
            ),
            [Probe("to_string"), Probe("to_messages")],
        ),
        Case(
            "chat_prompt_value_concrete",
            lambda: prompt_values.ChatPromptValueConcrete(messages=[m.HumanMessage("h")]),
            [Probe("to_string"), Probe("to_messages")],
        ),
    ]
