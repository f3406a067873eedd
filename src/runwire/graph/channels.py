"""Channels: how one state key takes the values written to it during a step.

Each channel holds one value (or ``MISSING``) and takes all of a step's writes at once
in ``update``; it returns whether its value changed. The runtime copies channels per
thread run, never the values in them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from runwire.graph.errors import InvalidUpdateError

__all__ = [
    "MISSING",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "EphemeralValue",
    "LastValue",
    "NamedBarrierValue",
    "Topic",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class BaseChannel:
    """A named slot of state with its own rule for combining writes."""

    __slots__ = ("key", "value")

    def __init__(self, key: str = "") -> None:
        self.key = key
        self.value: Any = MISSING

    def copy(self) -> BaseChannel:
        """A channel of the same kind holding the same value (not a copy of it)."""
        new = self.__class__.__new__(self.__class__)
        for klass in type(self).__mro__:
            for slot in getattr(klass, "__slots__", ()):
                setattr(new, slot, getattr(self, slot))
        return new

    def empty(self) -> BaseChannel:
        """A channel of the same kind holding nothing."""
        new = self.copy()
        new.value = MISSING
        return new

    def update(self, values: Sequence[Any]) -> bool:
        """Take one step's writes; return whether the value changed."""
        raise NotImplementedError(f"{type(self).__name__}.update")

    def get(self) -> Any:
        """The current value (``MISSING`` when empty)."""
        return self.value

    def checkpoint(self) -> Any:
        """The value to store in a checkpoint."""
        return self.value

    def restore(self, value: Any) -> None:
        """Take a stored value back."""
        self.value = value

    def consume(self) -> bool:
        """Called once a step has read the channel; True when that emptied it."""
        return False


class LastValue(BaseChannel):
    """Keeps the last value; two writes in one step are an error."""

    __slots__ = ()

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        if len(values) > 1:
            raise InvalidUpdateError(
                f"At key '{self.key}': Can receive only one value per step. "
                "Use an Annotated key to handle multiple values."
            )
        self.value = values[-1]
        return True


class BinaryOperatorAggregate(BaseChannel):
    """Folds every write into the value with a reducer ``reducer(current, write)``."""

    __slots__ = ("default", "reducer")

    def __init__(self, reducer: Callable[[Any, Any], Any], key: str = "", default: Any = MISSING):
        super().__init__(key)
        self.reducer = reducer
        self.default = default
        self.value = default() if callable(default) else default

    def empty(self) -> BaseChannel:
        new = self.copy()
        new.value = self.default() if callable(self.default) else self.default
        return new

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        from runwire.graph.types import Overwrite

        value = self.value
        for write in values:
            if isinstance(write, Overwrite):
                value = write.value
            elif value is MISSING:
                value = write
            else:
                value = self.reducer(value, write)
        self.value = value
        return True


class EphemeralValue(BaseChannel):
    """Holds a value for the one step after it was written, then empties."""

    __slots__ = ()

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True


class Topic(BaseChannel):
    """Collects every value written in a step as a list (``Send`` packets)."""

    __slots__ = ("accumulate",)

    def __init__(self, key: str = "", accumulate: bool = False) -> None:
        super().__init__(key)
        self.accumulate = accumulate
        self.value = []

    def empty(self) -> BaseChannel:
        new = self.copy()
        new.value = []
        return new

    def update(self, values: Sequence[Any]) -> bool:
        flat: list[Any] = []
        for value in values:
            flat.extend(value if isinstance(value, list) else (value,))
        if self.accumulate:
            if not flat:
                return False
            self.value = [*self.value, *flat]
            return True
        changed = bool(self.value) or bool(flat)
        self.value = flat
        return changed

    def get(self) -> Any:
        return self.value if self.value else MISSING


class NamedBarrierValue(BaseChannel):
    """Waits until every name in ``names`` was written; then it is ready, once."""

    __slots__ = ("names",)

    def __init__(self, names: Sequence[str], key: str = "") -> None:
        super().__init__(key)
        self.names = frozenset(names)
        self.value = frozenset()

    def empty(self) -> BaseChannel:
        new = self.copy()
        new.value = frozenset()
        return new

    def update(self, values: Sequence[Any]) -> bool:
        seen = self.value
        for name in values:
            if name not in self.names:
                raise InvalidUpdateError(f"At key '{self.key}': unexpected source {name!r}")
        new = seen | frozenset(values)
        if new != seen:
            self.value = new
            return True
        return False

    def ready(self) -> bool:
        """Whether every source has written."""
        return self.value == self.names

    def consume(self) -> bool:
        if self.value == self.names:
            self.value = frozenset()
            return True
        return False

    def checkpoint(self) -> Any:
        return sorted(self.value)

    def restore(self, value: Any) -> None:
        self.value = frozenset(value or ())
