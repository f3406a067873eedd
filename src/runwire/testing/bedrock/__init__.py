"""A local Bedrock emulator for tests and demos: the real wire protocol on loopback.

::

    from runwire.testing.bedrock import BedrockEmulator, Reply

    with BedrockEmulator(credentials={"AKID": "secret"}) as emu:
        client = boto3.client("bedrock-runtime", endpoint_url=emu.endpoint_url, ...)
        emu.script(Reply(text="hi"))
        emu.fail(status=429, code="ThrottlingException", times=2)
        emu.requests  # what it received

Names load on first use: importing this package starts nothing and imports no server.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BedrockEmulator": "runwire.testing.bedrock.emulator",
    "DEFAULT_ACCESS_KEY_ID": "runwire.testing.bedrock.emulator",
    "DEFAULT_CREDENTIALS": "runwire.testing.bedrock.emulator",
    "DEFAULT_SECRET_ACCESS_KEY": "runwire.testing.bedrock.emulator",
    "GUARDRAIL_TEXT": "runwire.testing.bedrock.replies",
    "RecordedRequest": "runwire.testing.bedrock.server",
    "Reply": "runwire.testing.bedrock.replies",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
