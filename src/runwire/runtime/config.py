"""``RunnableConfig``: what a call carries down the tree (tags, metadata, callbacks, limits).

Merging and propagation follow LangChain: tags are unioned and sorted, metadata and
``configurable`` merge key by key, callbacks add up, and ``run_name``/``run_id`` apply
to one run only (children never inherit them).

``var_child_runnable_config`` holds the config a running runnable hands its children
(LangChain's context variable of the same name): code called without a config, such as
``model.invoke(messages)`` inside a graph node, inherits it through ``ensure_config``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from random import getrandbits
from typing import Any, TypedDict

from runwire.runtime.callbacks import CallbackContext

__all__ = [
    "DEFAULT_RECURSION_LIMIT",
    "RunnableConfig",
    "child_config",
    "current_config",
    "ensure_config",
    "get_config_list",
    "map_in_contexts",
    "merge_configs",
    "new_run_id",
    "patch_config",
    "set_child_config",
    "var_child_runnable_config",
]

DEFAULT_RECURSION_LIMIT = 25
_UUID_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_V4 = (0x4 << 76) | (0x2 << 62)


def new_run_id() -> str:
    """A random version-4 UUID as text: run ids of calls nobody traces, request run ids.

    ``uuid.uuid4()`` costs a system call and an object per call; the id only has to be
    unique, not unguessable.
    """
    h = f"{(getrandbits(128) & _UUID_KEEP) | _UUID_V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class RunnableConfig(TypedDict, total=False):
    """Options of one call; every key is optional."""

    tags: list[str]
    """Tags of this run and, inherited, of every child run."""
    metadata: dict[str, Any]
    """Metadata of this run and its children."""
    callbacks: Any
    """Handlers (see ``runwire.runtime.callbacks``) told about this run and its children."""
    run_name: str
    """Name of this run (not inherited)."""
    max_concurrency: int | None
    """Most parallel calls in batch/parallel steps (``None``: unbounded)."""
    recursion_limit: int
    """Most nested runnable calls before ``RecursionError`` (default 25)."""
    configurable: dict[str, Any]
    """Values for configurable fields and alternatives, by id."""
    run_id: uuid.UUID | None
    """Id of this run (not inherited)."""


_NOT_INHERITED = ("run_name", "run_id")
_NONE_KEPT = ("callbacks", "max_concurrency", "run_id")

var_child_runnable_config: ContextVar[RunnableConfig | Callable[[], RunnableConfig] | None] = (
    ContextVar("runwire_child_runnable_config", default=None)
)
"""The config the running runnable hands its children (or a function building it on demand).

Set it with ``set_child_config``; read it with ``current_config`` or ``ensure_config()``.
Threads and asyncio tasks started from the run copy it with the rest of the context.
"""


def current_config() -> RunnableConfig | None:
    """The config inherited from the running runnable, ``None`` outside any run."""
    value = var_child_runnable_config.get()
    return value() if callable(value) else value


@contextmanager
def set_child_config(
    config: RunnableConfig | Callable[[], RunnableConfig] | None,
) -> Iterator[None]:
    """Make ``config`` (or the function building it when first needed) the inherited one."""
    token = var_child_runnable_config.set(config)
    try:
        yield
    finally:
        var_child_runnable_config.reset(token)


def ensure_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """A complete config: defaults for missing keys, copies of mutable values.

    As in LangChain, keys missing from ``config`` (or ``None`` in it) are taken from the
    running runnable's config (``var_child_runnable_config``): its tags, metadata,
    callbacks, configurable values and limits. A key ``config`` sets replaces the inherited
    one whole (tags and metadata are not merged); ``run_name`` and ``run_id`` never reach
    children because the inherited config never holds them.
    """
    full: RunnableConfig = {
        "tags": [],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": DEFAULT_RECURSION_LIMIT,
        "configurable": {},
    }
    inherited = var_child_runnable_config.get()
    if inherited is not None:
        if callable(inherited):
            inherited = inherited()
        for key, value in inherited.items():
            if value is not None:
                full[key] = value  # type: ignore[literal-required]
        if not config:
            _copy_mutable(full)
            return full
    if config:
        for key, value in config.items():
            if value is not None or (key in _NONE_KEPT and key not in full):
                full[key] = value  # type: ignore[literal-required]
        _copy_mutable(full)
    return full


def _copy_mutable(full: RunnableConfig) -> None:
    full["tags"] = list(full["tags"])
    full["metadata"] = dict(full["metadata"])
    full["configurable"] = dict(full["configurable"])


def merge_configs(*configs: RunnableConfig | None) -> RunnableConfig:
    """Merge configs left to right, as LangChain does."""
    base: dict[str, Any] = {}
    for config in configs:
        if not config:
            continue
        for key, value in config.items():
            if key == "tags":
                base["tags"] = sorted(set(base.get("tags", [])) | set(value or ()))
            elif key in ("metadata", "configurable"):
                base[key] = {**base.get(key, {}), **(value or {})}
            elif key == "callbacks":
                base["callbacks"] = _merge_callbacks(base.get("callbacks"), value)
            elif key == "recursion_limit":
                if value != DEFAULT_RECURSION_LIMIT:
                    base["recursion_limit"] = value
            else:
                base[key] = value if value is not None else base.get(key)
    return ensure_config(base)  # type: ignore[arg-type]


def _merge_callbacks(left: Any, right: Any) -> Any:
    """Both sides' handlers; a side that is a run context keeps its place in the run tree."""
    if right is None:
        return left
    if left is None:
        return list(right) if isinstance(right, list | tuple) else right
    for ctx, other in ((right, left), (left, right)):
        if isinstance(ctx, CallbackContext):
            return ctx.with_handlers(h for h in _handlers(other) if h not in ctx.handlers)
    return [*_handlers(left), *_handlers(right)]


def _handlers(callbacks: Any) -> list[Any]:
    if isinstance(callbacks, CallbackContext):
        return list(callbacks.handlers)
    return list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]


def patch_config(
    config: RunnableConfig | None,
    *,
    callbacks: Any = None,
    recursion_limit: int | None = None,
    max_concurrency: int | None = None,
    run_name: str | None = None,
    configurable: dict[str, Any] | None = None,
) -> RunnableConfig:
    """A copy of ``config`` with the given keys replaced.

    Replacing callbacks drops ``run_name`` and ``run_id``: they named the parent run.
    """
    patched = ensure_config(config)
    if callbacks is not None:
        patched["callbacks"] = callbacks
        for key in _NOT_INHERITED:
            patched.pop(key, None)  # type: ignore[misc]
    if recursion_limit is not None:
        patched["recursion_limit"] = recursion_limit
    if max_concurrency is not None:
        patched["max_concurrency"] = max_concurrency
    if run_name is not None:
        patched["run_name"] = run_name
    if configurable is not None:
        patched["configurable"] = {**patched["configurable"], **configurable}
    return patched


def child_config(config: RunnableConfig, callbacks: Any) -> RunnableConfig:
    """The config a run hands to a child: the same, minus run name and id, with the
    child's callback context (see ``runwire.runtime.callbacks``)."""
    child = dict(config)
    child.pop("run_name", None)
    child.pop("run_id", None)
    child["callbacks"] = callbacks
    return child  # type: ignore[return-value]


def get_config_list(
    config: RunnableConfig | Sequence[RunnableConfig] | None, length: int
) -> list[RunnableConfig]:
    """One config per input: a list is used as given (lengths must match), else copied."""
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if isinstance(config, Sequence) and not isinstance(config, str | dict):
        if len(config) != length:
            raise ValueError(
                f"config must be a list of the same length as inputs ({len(config)} != {length})"
            )
        return [ensure_config(c) for c in config]
    if length > 1 and config and config.get("run_id") is not None:
        # one run id cannot name several runs: only the first keeps it
        first = ensure_config(config)
        rest = ensure_config({k: v for k, v in config.items() if k != "run_id"})  # type: ignore[misc]
        return [first, *(ensure_config(rest) for _ in range(length - 1))]
    shared = ensure_config(config)  # callees copy before changing it: one dict will do
    return [shared] * length


def map_in_contexts(pool: Any, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
    """``pool.map(fn, items)`` with each call in its own copy of the caller's context, so
    context variables (the current config, a graph node's stream writer) follow into the
    worker threads. One copy per call: a context cannot be entered by two threads at once."""
    contexts = [copy_context() for _ in items]
    return pool.map(lambda ctx, item: ctx.run(fn, item), contexts, items)
