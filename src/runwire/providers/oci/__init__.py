"""OCI providers: chat models served on OCI Data Science model deployments.

Classes load on first use: importing this package imports neither httpx nor the SDK.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ChatOCIModelDeploymentVLLM": "runwire.providers.oci.vllm",
    "BearerAuth": "runwire.providers.oci.auth",
    "OCISignerAuth": "runwire.providers.oci.auth",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
