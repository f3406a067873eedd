"""A local OCI Data Science model deployment serving vLLM's chat API, for tests and demos.

::

    from runwire.testing.oci_vllm import OCIVllmEmulator

    with OCIVllmEmulator(tokens=["tok"]) as emu:
        chat = ChatOCIModelDeploymentVLLM(endpoint=emu.predict_url, bearer_token="tok")
        emu.script("hi")
        emu.fail(status=429, times=2)
        emu.requests  # what it received

Names load on first use: importing this package starts nothing.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_TOKEN": "runwire.testing.oci_vllm.emulator",
    "DEPLOYMENT_PATH": "runwire.testing.oci_vllm.emulator",
    "OCIVllmEmulator": "runwire.testing.oci_vllm.emulator",
    "RecordedRequest": "runwire.testing.oci_vllm.server",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
