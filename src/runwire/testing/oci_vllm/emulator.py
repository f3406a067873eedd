"""The public face of the OCI vLLM emulator: start it, script it, break it, read it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from runwire.testing.loopback import LoopbackEmulator
from runwire.testing.oci_vllm.completions import Scripted
from runwire.testing.oci_vllm.server import EmulatorServer, RecordedRequest

__all__ = ["DEFAULT_TOKEN", "DEPLOYMENT_PATH", "FAULTS", "Fault", "OCIVllmEmulator"]

DEFAULT_TOKEN = "runwire-oci-emulator-token"  # a public dummy, not a secret
"""The bearer token an emulator made with ``tokens=None`` accepts."""
DEPLOYMENT_PATH = "/ocid1.datasciencemodeldeployment.oc1.emulator/predict"
"""The predict path of the emulated deployment (any ``.../predict`` path is served)."""
FAULTS: Mapping[int, tuple[str, str]] = {
    401: (
        "NotAuthenticated",
        "The required information to complete authentication was not provided",
    ),
    429: ("TooManyRequests", "Too many requests for the deployment"),
    500: ("InternalServerError", "The model server failed"),
    503: ("ServiceUnavailable", "The model server is not ready"),
}
"""Status -> OCI error code and message of the injectable faults."""


@dataclass
class Fault:
    """An injected failure for the next ``remaining`` requests."""

    status: int
    code: str
    message: str
    remaining: int
    retry_after: float | None = None


class OCIVllmEmulator(LoopbackEmulator[RecordedRequest]):
    """A local OCI Data Science model deployment serving a vLLM chat model.

    Point a client at :attr:`predict_url`. Requests must carry one of ``tokens`` as a
    bearer token, or an OCI signature by a key of ``public_keys`` (key id ->
    ``cryptography`` RSA public key, or its PEM); ``require_auth=False`` accepts any
    request. Chat calls answer with the next scripted reply (:meth:`script`), else the
    default rule (see :mod:`runwire.testing.oci_vllm.completions`); :meth:`fail` injects
    errors; :attr:`requests` records every authenticated request.
    """

    server_class = EmulatorServer
    thread_name = "oci-vllm-emulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Collection[str] | None = None,
        *,
        public_keys: Mapping[str, Any] | None = None,
        require_auth: bool = True,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__(host, port, log=log, max_recorded=max_recorded)
        self.tokens = (DEFAULT_TOKEN,) if tokens is None else tuple(tokens)
        self._keys = {key_id: _public_key(key) for key_id, key in (public_keys or {}).items()}
        self.require_auth = require_auth
        self.scripted = Scripted()
        self._faults: list[Fault] = []

    @property
    def predict_url(self) -> str:
        """The deployment's predict URL, what ``endpoint`` / OCI_LLM_ENDPOINT name."""
        return self.endpoint_url + DEPLOYMENT_PATH

    def public_key_of(self, key_id: str) -> Any | None:
        """The public key of a signing key id, else None."""
        return self._keys.get(key_id)

    # -- scripting and faults ------------------------------------------------------------
    def script(self, *replies: str | Mapping[str, Any]) -> None:
        """Queue replies, one per chat call: a text, or ``{"content": ..., "tool_calls":
        [{"name": ..., "arguments": {...}}]}``."""
        self.scripted.extend(replies)

    def fail(
        self,
        status: int = 429,
        times: int = 1,
        *,
        message: str | None = None,
        retry_after: float | None = 0,
    ) -> None:
        """Make the next ``times`` authenticated requests fail with ``status`` (401, 429,
        500 or 503), with a ``Retry-After`` header when ``retry_after`` is not None."""
        if status not in FAULTS:
            raise ValueError(f"status must be one of {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        code, default = FAULTS[status]
        with self._lock:
            self._faults.append(Fault(status, code, message or default, times, retry_after))

    def take_fault(self) -> Fault | None:
        """The fault of this request (one use of the oldest), or None."""
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.pop(0)
            return fault

    def reset(self) -> None:
        """Forget scripted replies, injected failures and recorded requests."""
        self.scripted.clear()
        with self._lock:
            self._faults.clear()
            self._requests.clear()

    def __repr__(self) -> str:
        where = self.predict_url if self.running else "stopped"
        return f"OCIVllmEmulator({where}, signing keys={list(self._keys)})"


def _public_key(key: Any) -> Any:
    if isinstance(key, str | bytes):
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        return load_pem_public_key(key.encode() if isinstance(key, str) else key)
    return key
