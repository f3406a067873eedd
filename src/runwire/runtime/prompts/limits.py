"""Limits on rendering prompt templates, and the budget that enforces them while rendering.

Templates can come from untrusted places (a manifest, or a request's
``config["configurable"]``), so rendering one is bounded in output and work:

- :data:`MAX_TEMPLATE_OUTPUT`: the largest rendered text, in UTF-8 bytes (default 1 MiB;
  the environment variable ``RUNWIRE_MAX_TEMPLATE_OUTPUT`` sets it when the module-level
  setting is left at ``None``);
- :data:`MAX_FORMAT_WIDTH`: the largest width or precision in a format spec
  (``{x:>10000}``);
- :data:`MAX_MUSTACHE_DEPTH`: how deeply mustache sections (and dotted names) nest;
- :data:`MAX_TEMPLATE_STEPS`: how many template nodes one mustache render may visit;
- :data:`JINJA2_TIME_LIMIT_S`, :data:`JINJA2_MAX_LOOP_STEPS` and
  :data:`JINJA2_MAX_RANGE`: jinja2's time bound, its loop steps in all, and the longest
  ``range()`` it may build.

Each is a module-level setting read at render time, so a deployment (or a test) can
change it by assignment: ``runwire.runtime.prompts.limits.MAX_TEMPLATE_OUTPUT = 4 << 20``.
"""

from __future__ import annotations

import os
import re

from runwire.errors import TemplateError

__all__ = [
    "JINJA2_MAX_LOOP_STEPS",
    "JINJA2_MAX_RANGE",
    "JINJA2_TIME_LIMIT_S",
    "MAX_FORMAT_WIDTH",
    "MAX_MUSTACHE_DEPTH",
    "MAX_TEMPLATE_OUTPUT",
    "MAX_TEMPLATE_STEPS",
    "OUTPUT_ENV_VAR",
    "OutputBudget",
    "check_spec_numbers",
    "max_template_output",
]

DEFAULT_MAX_TEMPLATE_OUTPUT = 1 << 20
"""1 MiB: the default of :data:`MAX_TEMPLATE_OUTPUT`."""
OUTPUT_ENV_VAR = "RUNWIRE_MAX_TEMPLATE_OUTPUT"
"""Environment variable with the output limit in bytes (used while the setting is None)."""
MAX_TEMPLATE_OUTPUT: int | None = None
"""Largest rendered template, in UTF-8 bytes; ``None``: the env variable, else 1 MiB."""
MAX_FORMAT_WIDTH = 10_000
"""Largest width or precision a format spec may ask for (``{x:>10000}``, ``%.10000f``)."""
MAX_MUSTACHE_DEPTH = 100
"""Deepest nesting of mustache sections plus the parts of dotted names inside them."""
MAX_TEMPLATE_STEPS = 1_000_000
"""Most work units one mustache render may take: a node visited, a scope a name is looked
up in (sections repeat their children and add scopes)."""
JINJA2_TIME_LIMIT_S = 2.0
"""Longest a jinja2 render may run, checked at every call, loop step and output chunk."""
JINJA2_MAX_RANGE = 10_000
"""Longest ``range()`` a jinja2 template may build."""
JINJA2_MAX_LOOP_STEPS = 100_000
"""Most ``{% for %}`` steps (all loops together) one jinja2 render may take."""

_HINT_OUTPUT = (
    f"shorten the template or its values, or raise the limit ({OUTPUT_ENV_VAR} or "
    "runwire.runtime.prompts.limits.MAX_TEMPLATE_OUTPUT)"
)


def max_template_output() -> int:
    """The output limit in bytes: the module setting, else the env variable, else 1 MiB."""
    if MAX_TEMPLATE_OUTPUT is not None:
        return MAX_TEMPLATE_OUTPUT
    raw = os.environ.get(OUTPUT_ENV_VAR)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_TEMPLATE_OUTPUT
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        raise TemplateError(
            f"{OUTPUT_ENV_VAR} must be a positive number of bytes, got {raw[:40]!r}",
            hint=f"set {OUTPUT_ENV_VAR}=1048576 (1 MiB), or unset it for the default",
        )
    return value


class OutputBudget:
    """Counts what a render produces (characters, then bytes) and the steps it takes.

    ``add`` is called for every piece as it is produced, so a render stops as soon as it
    goes over the limit instead of after building the whole text.
    """

    __slots__ = ("chars", "limit", "steps", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.limit = max_template_output()
        self.chars = 0
        self.steps = 0

    def add(self, piece: str) -> None:
        """Count one produced piece; raise once the output is over the limit."""
        self.chars += len(piece)
        if self.chars > self.limit:  # a character is at least one byte
            self.too_large()

    def step(self, units: int = 1) -> None:
        """Count work: a template node visited, or the scopes a name is looked up in."""
        self.steps += units
        if self.steps > MAX_TEMPLATE_STEPS:
            raise TemplateError(
                f"rendering the {self.what} template takes more than {MAX_TEMPLATE_STEPS} "
                "steps (sections repeated over long lists)",
                hint="nest fewer sections over lists, or pass shorter lists",
            )

    def finish(self, text: str) -> str:
        """``text`` (the joined output) after the exact byte check."""
        if (
            not text.isascii()
            and len(text) * 4 > self.limit
            and len(text.encode("utf-8", "surrogatepass")) > self.limit
        ):
            self.too_large()
        return text

    def too_large(self) -> None:
        raise TemplateError(
            f"the rendered {self.what} template is larger than the limit of {self.limit} bytes",
            hint=_HINT_OUTPUT,
        )


_DIGITS = re.compile(r"\d+")


def check_spec_numbers(spec: str, where: str) -> None:
    """Refuse a format spec whose width or precision is over :data:`MAX_FORMAT_WIDTH`.

    Every run of digits in a spec is a width, a precision or a one-character fill, so
    checking them all bounds what the spec can ask for.
    """
    for match in _DIGITS.finditer(spec):
        digits = match.group()
        if len(digits) > 9 or int(digits) > MAX_FORMAT_WIDTH:
            raise TemplateError(
                f"format spec {spec[:40]!r} in {where} asks for a width or precision of "
                f"{digits[:12]}{'...' if len(digits) > 12 else ''}, over the limit of "
                f"{MAX_FORMAT_WIDTH}",
                hint=f"use a width and precision of at most {MAX_FORMAT_WIDTH}",
            )
