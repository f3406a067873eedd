"""runwire's exceptions.

Every problem with a manifest is a :class:`ManifestError` that says where it is
(file, line and column when known, and the JSON path of the node), what is wrong,
and a one-line hint. Messages never contain secret values: every error's text, repr
and ``to_dict`` pass through :func:`runwire.redaction.redact`, which masks each
registered secret value in any form (escaped, encoded, truncated).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

__all__ = [
    "FieldValidationError",
    "LimitExceededError",
    "ManifestError",
    "ManifestSyntaxError",
    "MissingSecretError",
    "NotAllowedError",
    "NotSerializableError",
    "ProviderError",
    "ProviderSetupError",
    "RunwireError",
    "SecretPlacementError",
    "TemplateError",
    "UnknownFieldError",
    "UnknownIdError",
    "ValidatorRejectedError",
    "format_path",
]

PathPart = str | int


def format_path(parts: Iterable[PathPart]) -> str:
    """Render path parts as a JSON path: ``("kwargs", "middle", 0)`` -> ``$.kwargs.middle[0]``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def _redact(text: str) -> str:
    """``text`` with registered secret values masked.

    No secret can be registered before :mod:`runwire.redaction` is imported, so errors
    raised before that cost nothing and this module imports nothing more.
    """
    redaction = sys.modules.get("runwire.redaction")
    return text if redaction is None else redaction.redact(text)


class RunwireError(Exception):
    """Base class of every error runwire raises on purpose.

    Its text, repr and string ``args`` never show a registered secret value (see the
    module docstring).
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(_redact(arg) if isinstance(arg, str) else arg for arg in args))

    def __str__(self) -> str:
        return _redact(super().__str__())

    def __repr__(self) -> str:
        return _redact(super().__repr__())


class ManifestError(RunwireError, ValueError):
    """A manifest (or a value being loaded or dumped) is not acceptable.

    Attributes:
        message: what is wrong, in one sentence.
        path: the JSON path of the offending node, e.g. ``$.kwargs.steps[1]``.
        hint: how to fix it, in one line (may be empty).
        file, line, column: where the node is in a source file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Sequence[PathPart] = "$",
        hint: str = "",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message = _redact(message)
        self.path = path if isinstance(path, str) else format_path(path)
        self.hint = _redact(hint)
        self.file = file
        self.line = line
        self.column = column
        super().__init__(message)

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known), or ``""``."""
        if self.file is None:
            return ""
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.path}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return _redact(text)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for ``--format json`` outputs and HTTP bodies."""
        return {
            "error": type(self).__name__,
            "message": _redact(self.message),
            "path": _redact(self.path),
            "hint": _redact(self.hint),
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }


class ManifestSyntaxError(ManifestError):
    """The text is not valid JSON (or YAML)."""


class LimitExceededError(ManifestError):
    """The input is larger or deeper than the configured limits allow."""


class UnknownIdError(ManifestError):
    """A constructor names a class that is not in the registry."""


class NotAllowedError(ManifestError):
    """A registered class is outside ``allowed_objects`` or ``valid_namespaces``."""


class UnknownFieldError(ManifestError):
    """A constructor passes a kwarg the class does not have."""


class FieldValidationError(ManifestError):
    """A kwarg has the wrong type or value for its field."""


class SecretPlacementError(ManifestError):
    """A secret node stands where the class does not declare a secret field."""


class MissingSecretError(ManifestError):
    """A required secret could not be resolved."""


class NotSerializableError(ManifestError):
    """A ``not_implemented`` node was loaded, or an object cannot be written."""


class ValidatorRejectedError(ManifestError):
    """The ``init_validator`` refused a constructor (e.g. a jinja2 template)."""


class ProviderError(RunwireError):
    """A provider's service answered with an error (or could not be reached).

    Attributes:
        provider: which service, e.g. ``"bedrock-runtime"``.
        operation: the API operation, e.g. ``"Converse"``.
        code: the service's error code (``"ThrottlingException"``), or the client-side
            failure's class name (``"EndpointConnectionError"``).
        message: the service's message (registered secret values masked, in any form).
        status: the HTTP status, when there was a response.
        request_id: the service's request id, when there was a response.
    """

    retryable_codes: frozenset[str] = frozenset(
        (
            "ThrottlingException",
            "TooManyRequestsException",
            "ServiceUnavailableException",
            "ModelNotReadyException",
            "InternalServerException",
            "ServiceQuotaExceededException",
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
        )
    )

    def __init__(
        self,
        provider: str,
        operation: str,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.operation = operation
        self.code = code
        self.message = _redact(message)
        self.status = status
        self.request_id = request_id
        super().__init__(str(self))

    @property
    def retryable(self) -> bool:
        """Whether trying again later may succeed (throttling, 5xx, connection trouble)."""
        return self.code in self.retryable_codes or (self.status or 0) in (429, 500, 502, 503)

    def __str__(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        text = f"{self.provider} {self.operation} failed: {self.code}{status}: {self.message}{rid}"
        return _redact(text)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for HTTP bodies and ``--format json`` outputs."""
        return {
            "error": type(self).__name__,
            "provider": self.provider,
            "operation": self.operation,
            "code": self.code,
            "message": _redact(self.message),
            "status": self.status,
            "request_id": self.request_id,
        }


class ProviderSetupError(RunwireError, ValueError):
    """A provider cannot be set up: missing or inconsistent credentials, region, profile."""


class TemplateError(RunwireError, ValueError):
    """A prompt template cannot be rendered (or built) as written or with these values.

    Raised for template problems found at render time: a refused field (``{x.__class__}``),
    a format spec too wide, output over the size limit, a mustache template nested too
    deep, a jinja2 template that ran too long. Servers answer it with HTTP 422.

    Attributes:
        message: what is wrong, in one sentence (never a variable's value).
        hint: how to fix it, in one line (may be empty).
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, for HTTP bodies and ``--format json`` outputs."""
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}
