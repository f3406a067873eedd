"""``ChatOCIModelDeploymentVLLM``: a chat model served by vLLM on OCI Data Science.

The fields are langchain-community's (names, defaults); a LangChain file of the class
loads here and runwire writes files LangChain loads. Each call POSTs vLLM's
OpenAI-compatible chat body to the deployment's ``/predict`` endpoint with the header
``route: /v1/chat/completions``::

    chat = ChatOCIModelDeploymentVLLM(
        endpoint="https://modeldeployment.us-ashburn-1.oci.customer-oci.com/<ocid>/predict",
        max_tokens=512, temperature=0.2,
    )

The body holds ``model``, ``messages``, ``stream`` and every sampling field that is not
``None``; ``model_kwargs`` go over them and call arguments (``invoke(..., top_k=5)``,
``bind``) over both. ``stop`` (the argument, else the field) is sent when given.
Streaming (``stream``, or ``streaming=True``) adds ``enable-streaming: true`` and reads
server-sent events up to ``data: [DONE]``.

Authentication, first that applies: ``auth`` (an ``httpx.Auth``, an ``oci`` SDK signer
or an ADS auth dict, Python only); ``bearer_token`` (``OCI_LLM_BEARER_TOKEN``); OCI
request signing for ``oci_auth`` (``api_key`` with the ``oci_*`` key fields or a
profile of ``~/.oci/config``, ``security_token``, ``resource_principal``,
``instance_principal``), which needs the ``oci`` extra; with none of those, API key
signing from ``~/.oci/config`` when that file exists (as langchain-community's default
signer), else no authentication (a plain vLLM server).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal, Self

import httpx
import orjson
from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from runwire.errors import ProviderSetupError
from runwire.providers.aws.client import env_secret
from runwire.providers.oci.auth import BearerAuth, OCIAuthMode, OCISignerAuth, make_signer
from runwire.providers.oci.chat_format import chunk_to_message, reply_to_message, to_chat_messages
from runwire.providers.oci.transport import Caller, HttpClients, aiter_events, iter_events
from runwire.redaction import register_secret
from runwire.runtime.base import Runnable
from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.tools import convert_to_openai_tool
from runwire.schema.messages import AIMessage, AIMessageChunk, BaseMessage
from runwire.schema.trust import TrustMark, UntrustedValueError, current_trust, endpoint_matches

__all__ = ["CHAT_ROUTE", "MODEL_PARAMS", "ChatOCIModelDeploymentVLLM"]

CHAT_ROUTE = "/v1/chat/completions"
ENDPOINT_ENV = "OCI_LLM_ENDPOINT"
OCI_ENDPOINTS = ("https://*.oci.customer-oci.com", "https://*.oci.oraclecloud.com")
"""Where an untrusted manifest may send requests without an allowlist entry."""
MODEL_PARAMS: tuple[str, ...] = (
    "best_of",
    "early_stopping",
    "frequency_penalty",
    "ignore_eos",
    "length_penalty",
    "logit_bias",
    "max_tokens",
    "min_p",
    "min_tokens",
    "n",
    "presence_penalty",
    "repetition_penalty",
    "skip_special_tokens",
    "spaces_between_special_tokens",
    "stop_token_ids",
    "temperature",
    "top_k",
    "top_p",
    "use_beam_search",
    "tool_choice",
    "chat_template",
)
"""The fields sent in the body when not None (langchain-community's list, in its order)."""
_CONTROL_KWARGS = frozenset(("stream", "requests_kwargs"))
_TOOL_CHOICES = {"any": "required", "required": "required", "auto": "auto", "none": "none"}


def _tool_choice(choice: Any) -> Any:
    """A ``tool_choice`` as vLLM takes it: auto/required/none or a named function."""
    if choice is None or isinstance(choice, Mapping):
        return choice
    if choice is True:
        return "required"
    return _TOOL_CHOICES.get(choice) or {"type": "function", "function": {"name": choice}}


def _signer_of(auth: Any) -> Any:
    """The auth of the ``auth`` field: an httpx.Auth, or an OCI signer adapted to one."""
    if auth is None or isinstance(auth, httpx.Auth):
        return auth
    if isinstance(auth, Mapping):
        if "signer" not in auth:
            raise ProviderSetupError("an ADS auth dict needs a 'signer' (ads.common.auth)")
        auth = auth["signer"]
    return OCISignerAuth(auth)


class ChatOCIModelDeploymentVLLM(BaseChatModel):
    """A chat model served by vLLM on an OCI Data Science model deployment.

    Each call POSTs vLLM's OpenAI-compatible chat body to ``endpoint`` (the deployment's
    ``.../predict`` URL, else OCI_LLM_ENDPOINT) with ``route: /v1/chat/completions``;
    streams are server-sent events. Tools (``bind_tools``), ``with_structured_output``
    (``json_mode`` by default), retries of 429/5xx/connection failures, and bearer-token
    or OCI-signed authentication: see the module docstring.
    """

    lc_secret_service: ClassVar[str] = "oci"
    lc_secret_ids: ClassVar[dict[str, str]] = {
        "bearer_token": "OCI_LLM_BEARER_TOKEN",
        "oci_private_key": "OCI_CLI_KEY_CONTENT",
        "oci_private_key_passphrase": "OCI_CLI_PASSPHRASE",
    }

    auth: Any = Field(default=None, exclude=True)
    """ADS auth dict (``{"signer": ...}``), an ``oci`` SDK signer or an ``httpx.Auth``;
    wins over every other way to authenticate. Never serialized."""
    endpoint: str = ""
    """The deployment's predict URL; empty: ``OCI_LLM_ENDPOINT`` at call time."""
    streaming: bool = False
    """Stream the reply (``invoke`` too: the answer is the summed stream)."""
    max_retries: int = 3
    """Retries of a request after a connection failure, a 429 or a 5xx."""
    default_headers: dict[str, Any] | None = None
    """Headers added to every request (``route`` may be overridden here)."""
    model: str = "odsc-llm"
    """The model name sent in the body (``odsc-llm`` for AI Quick Actions deployments)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Body parameters sent over the fields' (any vLLM sampling parameter)."""
    stop: list[str] | None = None
    """Stop words; the ``stop`` call argument replaces them."""
    frequency_penalty: float = 0.0
    """Penalizes repeated tokens according to frequency."""
    logit_bias: dict[str, float] | None = None
    """Adjusts the probability of specific tokens."""
    max_tokens: int | None = 256
    """The maximum number of tokens to generate."""
    n: int = 1
    """Number of output sequences (the first is returned)."""
    presence_penalty: float = 0.0
    """Penalizes tokens already present."""
    temperature: float = 0.2
    """Sampling temperature."""
    top_p: float = 1.0
    """Total probability mass of tokens to consider."""
    best_of: int | None = None
    """Completions generated server-side, of which the best is returned."""
    use_beam_search: bool | None = False
    """Beam search instead of sampling."""
    top_k: int | None = -1
    """Number of most likely tokens to consider (-1: all)."""
    min_p: float | None = 0.0
    """Minimum probability of a token, relative to the most likely one (0: off)."""
    repetition_penalty: float | None = 1.0
    """Penalizes new tokens by their frequency so far (> 1: prefer new tokens)."""
    length_penalty: float | None = 1.0
    """Penalizes sequences by length (beam search only)."""
    early_stopping: bool | None = False
    """Stopping condition of beam search."""
    ignore_eos: bool | None = False
    """Keep generating after the EOS token."""
    min_tokens: int | None = 0
    """Tokens to generate before EOS or a stop token may end the output."""
    stop_token_ids: list[int] | None = None
    """Token ids that stop generation."""
    skip_special_tokens: bool | None = True
    """Skip special tokens in the output."""
    spaces_between_special_tokens: bool | None = True
    """Add spaces between special tokens in the output."""
    tool_choice: str | None = None
    """``auto`` or ``required`` to let (or make) the model call tools; needs vLLM's
    ``--tool-call-parser``. A call's or ``bind_tools``' choice wins."""
    chat_template: str | None = None
    """A chat template instead of the tokenizer's."""

    bearer_token: SecretStr | None = Field(default_factory=env_secret("OCI_LLM_BEARER_TOKEN"))
    """A bearer token (``Authorization: Bearer``) for a vLLM server started with
    ``--api-key``; defaults to ``OCI_LLM_BEARER_TOKEN``."""
    oci_auth: OCIAuthMode | None = None
    """OCI request signing mode (needs the ``oci`` extra); see the module docstring."""
    oci_config_file: str | None = None
    """OCI config file of ``api_key``/``security_token`` signing (``~/.oci/config``)."""
    oci_profile: str | None = None
    """Profile of the OCI config file (None: ``DEFAULT``)."""
    oci_tenancy: str | None = None
    """Tenancy OCID, for API key signing without a config file."""
    oci_user: str | None = None
    """User OCID, for API key signing without a config file."""
    oci_fingerprint: str | None = None
    """The API key's fingerprint, for API key signing without a config file."""
    oci_private_key: SecretStr | None = Field(default_factory=env_secret("OCI_CLI_KEY_CONTENT"))
    """The API key (PEM), for signing without a config file; defaults to OCI_CLI_KEY_CONTENT."""
    oci_private_key_passphrase: SecretStr | None = Field(
        default_factory=env_secret("OCI_CLI_PASSPHRASE")
    )
    """The private key's passphrase; defaults to OCI_CLI_PASSPHRASE."""

    _http: HttpClients = PrivateAttr(default_factory=HttpClients)
    _trust: TrustMark = PrivateAttr(default_factory=TrustMark)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "oci"]

    @field_validator("endpoint")
    @classmethod
    def _endpoint_allowed(cls, value: str) -> str:
        trust = current_trust()
        if value and not trust.trusted:
            oci = any(endpoint_matches(value, rule) for rule in OCI_ENDPOINTS)
            if not (oci or trust.allows_endpoint(value)):
                raise UntrustedValueError(
                    f"endpoint {value!r} is neither an OCI endpoint nor on allowed_endpoints; "
                    "an untrusted manifest may only send requests there",
                    "if you run that endpoint, add its origin to allowed_endpoints",
                )
        return value

    @field_validator("oci_config_file", "oci_auth")
    @classmethod
    def _no_machine_identity_when_untrusted(cls, value: Any, info: Any) -> Any:
        if value and not current_trust().trusted:
            if info.field_name == "oci_auth" and value == "api_key":
                return value  # with explicit key fields (checked when signing)
            raise UntrustedValueError(
                f"an untrusted manifest cannot set {info.field_name}={value!r}: it reads this "
                "machine's OCI identity",
                "give the key fields as secrets in secrets_map, or load your own file with "
                "trusted=True",
            )
        return value

    @model_validator(mode="after")
    def _check_retries(self) -> Self:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        return self

    # -- requests -------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "oci_model_depolyment_chat_endpoint_vllm"  # langchain-community's spelling

    def _url(self) -> str:
        url = self.endpoint or os.environ.get(ENDPOINT_ENV, "")
        if not url:
            raise ProviderSetupError(
                f"{type(self).__name__} has no endpoint: set endpoint (the deployment's "
                f".../predict URL) or {ENDPOINT_ENV}"
            )
        return url

    def default_params(self) -> dict[str, Any]:
        """The body parameters from the fields: model, stop, stream and the set ones."""
        params: dict[str, Any] = {"model": self.model, "stream": self.streaming}
        if self.stop:
            params["stop"] = list(self.stop)
        for name in MODEL_PARAMS:
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        return params

    def build_body(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None = None,
        *,
        stream: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The JSON body of one call: fields < ``model_kwargs`` < call arguments."""
        if kwargs.get("requests_kwargs"):
            raise NotImplementedError(
                "requests_kwargs (langchain-community's options for requests.post) are not "
                "implemented: runwire calls the endpoint with httpx; use default_headers "
                "for headers"
            )
        call = {k: v for k, v in kwargs.items() if k not in _CONTROL_KWARGS}
        params = {**self.default_params(), **self.model_kwargs, **call}
        if stop:
            params["stop"] = list(stop)
        if "tool_choice" in call:
            params["tool_choice"] = _tool_choice(call["tool_choice"])
        if call.get("tools"):
            params["tools"] = [convert_to_openai_tool(tool) for tool in call["tools"]]
        params["stream"] = stream
        if stream:
            params.setdefault("stream_options", {"include_usage": True})
        return {"messages": to_chat_messages(messages), **params}

    def headers(self, *, stream: bool) -> dict[str, str]:
        """The request headers (``route`` first, so ``default_headers`` may replace it)."""
        extra = {name: str(value) for name, value in (self.default_headers or {}).items()}
        headers = {"route": CHAT_ROUTE, **extra}
        headers["Content-Type"] = "application/json"
        if stream:
            headers["enable-streaming"] = "true"
            headers["Accept"] = "text/event-stream"
        return headers

    def http_auth(self) -> httpx.Auth | None:
        """The request authentication (resolved once; see the module docstring)."""
        if self._http.auth_resolved:
            return self._http.auth
        auth = self._resolve_auth()
        self._http.auth, self._http.auth_resolved = auth, True
        return auth

    def _resolve_auth(self) -> httpx.Auth | None:
        if self.auth is not None:
            return _signer_of(self.auth)
        for secret in (self.bearer_token, self.oci_private_key, self.oci_private_key_passphrase):
            if secret is not None:
                register_secret(secret.get_secret_value())  # masked in any error text
        if self.bearer_token is not None:
            return BearerAuth(self.bearer_token.get_secret_value())
        ambient = self._trust.trust.trusted
        keys = {
            "tenancy": self.oci_tenancy,
            "user": self.oci_user,
            "fingerprint": self.oci_fingerprint,
            "private_key": _plain(self.oci_private_key),
            "passphrase": _plain(self.oci_private_key_passphrase),
        }
        mode = self.oci_auth
        if mode is None and any(keys[k] for k in ("tenancy", "user", "fingerprint")):
            mode = "api_key"
        config = os.path.expanduser(self.oci_config_file or "~/.oci/config")
        if mode is None and ambient and os.path.exists(config):
            mode = "api_key"
        if mode is None:
            return None
        signer = make_signer(
            mode,
            **keys,
            config_file=self.oci_config_file,
            profile=self.oci_profile or "DEFAULT",
            ambient=ambient,
        )
        return OCISignerAuth(signer)

    def close(self) -> None:
        """Close the pooled sync HTTP client (the next call opens a new one)."""
        self._http.close()

    async def aclose(self) -> None:
        """Close the running event loop's pooled HTTP client (the next call opens a new one)."""
        await self._http.aclose()

    def _caller(self, stream: bool) -> Caller:
        return Caller(self._url(), self.headers(stream=stream), self.http_auth(), self.max_retries)

    # -- tools and structured output ------------------------------------------------------
    def tool_choice_values(self) -> tuple[str, ...]:
        """vLLM forces a named tool, or any tool (``required``)."""
        return ("auto", "any", "tool")

    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        """This model with OpenAI-format tools; ``tool_choice``: ``auto``,
        ``required``/``any``, ``none``, a tool name or an OpenAI choice dict."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice)
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        include_raw: bool = False,
        method: Literal["function_calling", "json_mode", "json_schema"] | None = "json_mode",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """As the base, with langchain-community's default method ``json_mode``
        (``response_format={"type": "json_object"}``: say the shape in the prompt)."""
        return super().with_structured_output(
            schema, include_raw=include_raw, method=method, strict=strict, **kwargs
        )

    def _bind_structured_output(self, spec: Any) -> Runnable[Any, Any]:
        tracing = {"ls_structured_output_format": {"kwargs": {"method": spec.method}}}
        if spec.method == "json_mode":
            return self.bind(response_format={"type": "json_object"}, **tracing)
        if spec.method == "json_schema":
            schema = dict(spec.json_schema)
            name = schema.pop("title")
            format_: dict[str, Any] = {"name": name, "schema": schema}
            if spec.strict is not None:
                format_["strict"] = spec.strict
            return self.bind(
                response_format={"type": "json_schema", "json_schema": format_}, **tracing
            )
        return super()._bind_structured_output(spec)

    # -- calls ----------------------------------------------------------------------------
    def _body(self, messages: list[BaseMessage], stop: Any, kwargs: Any, stream: bool) -> bytes:
        return orjson.dumps(self.build_body(messages, stop, stream=stream, **kwargs))

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self._body(messages, stop, kwargs, False)
        reply = self._caller(False).post(self._http.sync(), body)
        return reply_to_message(reply, self.model)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        body = self._body(messages, stop, kwargs, False)
        reply = await self._caller(False).apost(self._http.for_loop(), body)
        return reply_to_message(reply, self.model)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        body = self._body(messages, stop, kwargs, True)
        response = self._caller(True).open_stream(self._http.sync(), body)
        for event in iter_events(response):
            chunk = chunk_to_message(event, self.model)
            if chunk is not None:
                yield chunk

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        body = self._body(messages, stop, kwargs, True)
        response = await self._caller(True).aopen_stream(self._http.for_loop(), body)
        async for event in aiter_events(response):
            chunk = chunk_to_message(event, self.model)
            if chunk is not None:
                yield chunk


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
