"""A secret value that remembers the name it was loaded under.

A manifest names its secrets (``aws_secret_access_key: !secret PROD_AWS_SECRET``). The
loader hands the value to the field as a :class:`NamedSecret`, so ``dumps`` (runwire's
dialect) writes the secret node back under the author's name instead of the field's
own id (``AWS_SECRET_ACCESS_KEY``): renaming a secret changes the dump and snapshots.

It is a ``SecretStr`` in every other respect: equal to a ``SecretStr`` of the same
value, hashed and shown the same way (``SecretStr('**********')``).
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

__all__ = ["NamedSecret", "secret_id_of"]


class NamedSecret(SecretStr):
    """A ``SecretStr`` that carries ``secret_id``, the name of the secret it came from."""

    def __init__(self, secret_value: str, secret_id: str) -> None:
        super().__init__(secret_value)
        self.secret_id = secret_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and self.get_secret_value() == other.get_secret_value()

    def __hash__(self) -> int:
        return hash(self.get_secret_value())

    def __repr__(self) -> str:
        return f"SecretStr({self._display()!r})"


def secret_id_of(value: Any) -> str | None:
    """The name ``value`` was loaded under, when it is a :class:`NamedSecret`."""
    return value.secret_id if type(value) is NamedSecret else None
