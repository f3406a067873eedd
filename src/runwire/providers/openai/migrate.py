"""Moving an assistant's pipeline to the Responses API: read the assistant, write its manifest.

:func:`migrate_assistant` reads an assistant (from a server that still has it: Azure
OpenAI, the emulator, or OpenAI before the shutdown) and returns the runnable with
``backend="responses"`` and the assistant's model, instructions, tools and tool
resources as fields, so the file runs without the Assistants API. As a command::

    python -m runwire.providers.openai.migrate asst_abc123 > assistant.json

or ``runwire migrate assistant asst_abc123 [--base-url URL] [-o FILE]`` (uses
``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` as the SDK does; writes runwire's wire form,
which ``runwire fmt --compact`` turns into the authoring form).
"""

from __future__ import annotations

import sys
from typing import Any

from runwire.providers.openai.assistant import OpenAIAssistantV2Runnable
from runwire.providers.openai.assistant_sdk import openai_sdk, sdk_call

__all__ = ["cmd_migrate", "main", "migrate_assistant"]


def migrate_assistant(
    assistant_id: str, *, client: Any = None, **fields: Any
) -> OpenAIAssistantV2Runnable:
    """The runnable of ``assistant_id`` on the Responses backend (``fields`` added)."""
    client = client or openai_sdk().OpenAI()
    assistant = sdk_call("assistants.retrieve", client.beta.assistants.retrieve, assistant_id)
    resources = getattr(assistant, "tool_resources", None)
    return OpenAIAssistantV2Runnable(
        assistant_id=assistant.id,
        backend="responses",
        model=assistant.model,
        instructions=assistant.instructions,
        tools=[tool.model_dump(exclude_none=True) for tool in assistant.tools] or None,
        tool_resources=resources.model_dump(exclude_none=True) if resources else None,
        **fields,
    )


def cmd_migrate(args: Any) -> int:
    """``runwire migrate assistant ID``: write the manifest to ``args.output`` or stdout."""
    from runwire.errors import RunwireError
    from runwire.schema.dump import dumps

    fields = {"base_url": args.base_url} if args.base_url else {}
    client = openai_sdk().OpenAI(base_url=args.base_url) if args.base_url else None
    try:
        runnable = migrate_assistant(args.assistant_id, client=client, **fields)
    except RunwireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = dumps(runnable, pretty=True) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m runwire.providers.openai.migrate ASSISTANT_ID``: print the manifest."""
    from runwire.errors import RunwireError
    from runwire.schema.dump import dumps

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runwire.providers.openai.migrate ASSISTANT_ID", file=sys.stderr)
        return 2
    try:
        runnable = migrate_assistant(args[0])
    except RunwireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(dumps(runnable, pretty=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
