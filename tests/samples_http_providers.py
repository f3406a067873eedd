"""Samples of the HTTP providers (issue 18), merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _oci_vllm() -> Any:
    from runwire.providers.oci import ChatOCIModelDeploymentVLLM

    return ChatOCIModelDeploymentVLLM(
        endpoint="https://modeldeployment.us-ashburn-1.oci.customer-oci.com/ocid1.x/predict",
        max_tokens=512,
        temperature=0.1,
        top_k=20,
        stop=["\n\n"],
        model_kwargs={"seed": 7},
        default_headers={"opc-request-id": "sample"},
    )


def _assistant() -> Any:
    from runwire.providers.openai import OpenAIAssistantV2Runnable

    return OpenAIAssistantV2Runnable(
        assistant_id="asst_sample", check_every_ms=250, as_agent=True, run_timeout=60
    )


SAMPLES: dict[str, Callable[[], Any]] = {
    "ChatOCIModelDeploymentVLLM": _oci_vllm,
    "OpenAIAssistantV2Runnable": _assistant,
}
