"""A local SageMaker runtime emulator (InvokeEndpoint, InvokeEndpointWithResponseStream).

::

    from runwire.testing.sagemaker import SageMakerEmulator

    with SageMakerEmulator(credentials={"AKID": "secret"}) as sm:
        client = boto3.client("sagemaker-runtime", endpoint_url=sm.endpoint_url, ...)

Its endpoints answer like the common model servers (TGI, OpenAI-compatible chat and
completions, JumpStart text2text), chosen by the request body; the model echoes the
prompt. Names load on first use.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "SageMakerEmulator": "runwire.testing.sagemaker.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
