"""jinja2 templates, rendered in a bounded sandbox (jinja2 is only ever enabled explicitly).

The loader refuses ``template_format="jinja2"`` unless ``init_validator=None``, and a
request's config may choose jinja2 only where the deployment allowed it. What does get
rendered runs in jinja2's ``SandboxedEnvironment`` with these bounds on top:

- output: rendered through ``generate()`` and counted chunk by chunk against
  :data:`~runwire.runtime.prompts.limits.MAX_TEMPLATE_OUTPUT`;
- time: :data:`~runwire.runtime.prompts.limits.JINJA2_TIME_LIMIT_S`, checked at every
  call (macros included), every 64 loop steps and every output chunk; all ``{% for %}``
  loops together take at most :data:`~runwire.runtime.prompts.limits.
  JINJA2_MAX_LOOP_STEPS` steps;
- what ``{{ expressions }}`` print, also inside blocks jinja2 buffers (macros,
  ``{% filter %}``, ``{% set %}`` blocks), counted against the output limit;
- size of values built inside the template: ``range()`` is at most
  :data:`~runwire.runtime.prompts.limits.JINJA2_MAX_RANGE` long; ``+``, ``*``, ``~``,
  ``**``, ``%``, ``namespace`` attributes, ``str.format``, ``center``/``ljust``/
  ``rjust``/``zfill``, ``replace`` and the ``center``/``indent``/``wordwrap``/``format``
  filters refuse results over the output limit (or widths over ``MAX_FORMAT_WIDTH``)
  before building them; ``lipsum`` is removed.

What remains (honestly): the checks run between Python-level operations, so one
operation that is slow by itself on large input (``|sort`` of a huge list passed as a
value) runs to completion before the time check sees it; its cost is bounded by the size
of the values passed in, not by the template. Literal template text inside a loop in a
buffered block is not counted until the block ends: it is bounded by the loop steps
times the template's length. Deeply recursive macros end with a ``TemplateError`` (from
``RecursionError``), not a crash.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import lru_cache
from string import Formatter
from typing import Any

from runwire.errors import TemplateError
from runwire.runtime.prompts import limits
from runwire.runtime.prompts.limits import OutputBudget, check_spec_numbers

__all__ = ["jinja2_variables", "render_jinja2"]

_JINJA2_MISSING = (
    "template_format='jinja2' needs the jinja2 package: pip install jinja2. "
    "Only use jinja2 templates you trust: they can execute code."
)


class _Render:
    """What one render has used so far: its deadline, loop steps and printed bytes."""

    __slots__ = ("deadline", "printed", "steps")

    def __init__(self) -> None:
        self.deadline = time.monotonic() + limits.JINJA2_TIME_LIMIT_S
        self.steps = 0
        self.printed = 0


_UNBOUNDED = _Render()
_UNBOUNDED.deadline = float("inf")
_RENDER: ContextVar[_Render] = ContextVar("runwire_jinja2_render", default=_UNBOUNDED)
_SIZED = (str, list, tuple, bytes)
_WIDTH_METHODS = frozenset(("center", "ljust", "rjust", "zfill", "expandtabs"))


def _check_time() -> None:
    if time.monotonic() > _RENDER.get().deadline:
        raise TemplateError(
            f"the jinja2 template ran longer than {limits.JINJA2_TIME_LIMIT_S} s",
            hint="simplify its loops, or raise runwire.runtime.prompts.limits."
            "JINJA2_TIME_LIMIT_S for templates you trust",
        )


def _too_large(what: str) -> TemplateError:
    return TemplateError(
        f"the jinja2 template builds a value larger than {limits.max_template_output()} "
        f"bytes ({what})",
        hint="build smaller values, or raise MAX_TEMPLATE_OUTPUT (RUNWIRE_MAX_TEMPLATE_OUTPUT)",
    )


def _check_size(length: int, what: str) -> None:
    if length > limits.max_template_output():
        raise _too_large(what)


def _check_width(width: Any, what: str) -> None:
    if isinstance(width, int) and width > limits.MAX_FORMAT_WIDTH:
        raise TemplateError(
            f"jinja2 template: {what} width {width} is over the limit of {limits.MAX_FORMAT_WIDTH}",
            hint=f"use widths of at most {limits.MAX_FORMAT_WIDTH}",
        )


def _check_format_string(text: str, where: str) -> None:
    """A ``str.format`` string: no nested (argument-given) widths, bounded numbers."""
    try:
        fields = list(Formatter().parse(text))
    except ValueError:
        return  # str.format raises its own error
    for _, _, spec, _ in fields:
        if spec and ("{" in spec or "}" in spec):
            raise TemplateError(
                f"jinja2 template: {where} takes a width from its arguments",
                hint="write widths as numbers in the format string",
            )
        if spec:
            check_spec_numbers(spec, where)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(text: str) -> None:
    """A ``%`` format string: bounded widths, none taken from the arguments (``%*d``)."""
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*":
                raise TemplateError(
                    "jinja2 template: '%' formatting with '*' widths is not allowed",
                    hint="write widths as numbers",
                )
            if number:
                check_spec_numbers(number, f"the '%' format {match.group()[:20]!r}")


def _bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` loop iterates through this: time and total steps are bounded."""
    render = _RENDER.get()
    for item in iterable:
        render.steps += 1
        if not render.steps & 63:
            _check_time()
            if render.steps > limits.JINJA2_MAX_LOOP_STEPS and render is not _UNBOUNDED:
                raise TemplateError(
                    f"the jinja2 template's loops run more than {limits.JINJA2_MAX_LOOP_STEPS}"
                    " steps in all",
                    hint="loop over fewer items, or nest fewer loops",
                )
        yield item


def _finalize(value: Any) -> Any:
    """Every ``{{ expression }}`` passes here, buffered blocks (macros, filters) included."""
    render = _RENDER.get()
    render.printed += len(value) if isinstance(value, str) else len(str(value))
    if render.printed > limits.max_template_output() and render is not _UNBOUNDED:
        raise _too_large("printed expressions")
    return value


def _bounded_range(*args: int) -> Iterator[int]:
    span = range(*args)
    if len(span) > limits.JINJA2_MAX_RANGE:
        raise TemplateError(
            f"jinja2 template: range() of {len(span)} items is over the limit of "
            f"{limits.JINJA2_MAX_RANGE}",
            hint="loop over fewer items",
        )
    return _bounded_iter(span)


def _bounded_concat(*parts: Any) -> str:
    """The ``~`` operator, with its result's size checked before it is built."""
    texts = [str(part) for part in parts]
    _check_size(sum(map(len, texts)), "'~' concatenation")
    return "".join(texts)


def _sandbox_class() -> type:
    try:
        from jinja2 import nodes
        from jinja2.sandbox import SandboxedEnvironment
        from jinja2.utils import Namespace
        from jinja2.visitor import NodeTransformer
    except ImportError:
        raise ImportError(_JINJA2_MISSING) from None

    class _BoundedNamespace(Namespace):  # type: ignore[misc]
        def __setitem__(self, name: str, value: Any) -> None:
            if isinstance(value, _SIZED):
                _check_size(len(value), f"namespace attribute {name!r}")
            super().__setitem__(name, value)

    class _Bounds(NodeTransformer):  # type: ignore[misc]
        """Loops iterate through ``_bounded_iter``; ``~`` goes through ``_bounded_concat``."""

        def visit_For(self, node: Any) -> Any:
            node = self.generic_visit(node)
            node.iter = nodes.Call(nodes.Name("_runwire_iter", "load"), [node.iter], [], None, None)
            return node

        def visit_Concat(self, node: Any) -> Any:
            node = self.generic_visit(node)
            name = nodes.Name("_runwire_concat", "load")
            return nodes.Call(name, list(node.nodes), [], None, None, lineno=node.lineno)

    class BoundedSandbox(SandboxedEnvironment):  # type: ignore[misc]
        """jinja2's sandbox with runwire's size and time bounds."""

        intercepted_binops = frozenset(("+", "*", "**", "%"))

        def __init__(self) -> None:
            super().__init__(finalize=_finalize)
            self.globals.pop("lipsum", None)
            self.globals.update(
                range=_bounded_range,
                namespace=_BoundedNamespace,
                _runwire_iter=_bounded_iter,
                _runwire_concat=_bounded_concat,
            )
            for name in ("center", "indent", "wordwrap"):
                self.filters[name] = _width_filter(self.filters[name], name)
            self.filters["format"] = _format_filter(self.filters["format"])
            self.filters["replace"] = _replace_filter(self.filters["replace"])

        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            return _Bounds().visit(super()._parse(source, name, filename))

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            _check_time()
            _check_method(__obj, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            if wrapped is not None and isinstance(getattr(value, "__self__", None), str):
                _check_format_string(value.__self__, "str.format")
            return wrapped

    return BoundedSandbox


_MAX_INT_BITS = 100_000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        _check_size(len(left) + len(right), "'+'")
    elif operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, _SIZED) and isinstance(times, int):
                _check_size(len(seq) * max(times, 0), "'*'")
    if operator in ("*", "**") and _is_int(left) and _is_int(right):
        bits = left.bit_length() * abs(right) if operator == "**" else 0
        bits = max(bits, left.bit_length() + right.bit_length())
        if bits > _MAX_INT_BITS:
            raise TemplateError(
                f"jinja2 template: '{operator}' would build an integer of about {bits} bits",
                hint="use smaller numbers",
            )
    elif operator == "%" and isinstance(left, str):
        _check_percent(left)


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Bound str methods that grow their string: widths and ``replace``."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name in _WIDTH_METHODS:
        for arg in (*args, *kwargs.values()):
            _check_width(arg, f"str.{name}")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = text.count(old) if old else len(text) + 1
        _check_size(len(text) + hits * max(len(new) - len(old), 0), "replace")


def _width_filter(function: Any, name: str) -> Any:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in (*args, *kwargs.values()):
            _check_width(arg, f"|{name}")
        return function(value, *args, **kwargs)

    return bounded


def _format_filter(function: Any) -> Any:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            _check_percent(value)
        return function(value, *args, **kwargs)

    return bounded


def _replace_filter(function: Any) -> Any:
    def bounded(eval_ctx: Any, value: Any, old: Any, new: Any, count: Any = None) -> Any:
        _check_replace(str(value), old, new)
        return function(eval_ctx, value, old, new, count)

    bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded


@lru_cache(maxsize=1)
def _environment() -> Any:
    return _sandbox_class()()


@lru_cache(maxsize=256)
def _compiled(template: str) -> Any:
    return _environment().from_string(template)


def render_jinja2(template: str, values: Mapping[str, Any]) -> str:
    """Render in the bounded sandbox; over a bound it raises :class:`TemplateError`."""
    budget = OutputBudget("jinja2")
    token = _RENDER.set(_Render())
    out: list[str] = []
    try:
        for chunk in _compiled(template).generate(**values):
            budget.add(chunk)
            out.append(chunk)
            _check_time()
    except TemplateError:
        raise
    except RecursionError:
        raise TemplateError(
            "the jinja2 template recursed too deeply", hint="bound the macro's recursion"
        ) from None
    except Exception as exc:  # the template's own runtime error, as a template error
        raise TemplateError(
            f"the jinja2 template failed: {type(exc).__name__}: {str(exc)[:200]}",
            hint="fix the template expression named above",
        ) from None
    finally:
        _RENDER.reset(token)
    return budget.finish("".join(out))


def jinja2_variables(template: str) -> list[str]:
    """The undeclared variables of a jinja2 template, sorted."""
    from jinja2 import meta

    names = meta.find_undeclared_variables(_environment().parse(template))
    return sorted(name for name in names if not name.startswith("_runwire_"))
