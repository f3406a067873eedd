"""``Serializable``: the pydantic base of every object that has a wire form.

It keeps LangChain's contract (``lc_id``, ``get_lc_namespace``, ``is_lc_serializable``,
``lc_secrets``, ``lc_attributes``, ``to_json``, ``to_json_not_implemented``) with
one change of emphasis: secret fields are known per class, before any instance
exists, so the loader can refuse a secret node anywhere else.

A field is secret when its type involves ``SecretStr`` (its secret id is the field
name upper-cased) or when the class lists it in ``lc_secret_ids``.

A field is user data when the class lists it in ``lc_data_fields`` (message content and
kwargs, document metadata): the loader never builds an object inside one, so a
constructor node found there is refused; an escaped dict comes back as that dict.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from runwire.schema.nodes import (
    SerializedConstructor,
    SerializedNotImplemented,
    not_implemented_node,
    secret_node,
)

__all__ = ["FieldPlan", "Serializable", "class_plan"]


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))


@dataclass(frozen=True, slots=True)
class FactoryDefault:
    """A field's default made by a factory that may read the world (the environment):
    called each time an object is written, as LangChain does, never cached."""

    factory: Any

    def value(self) -> Any:
        """The default now (unset when the factory fails)."""
        try:
            return self.factory()
        except Exception:
            return PydanticUndefined


def _field_default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    factory = field.default_factory
    if factory in (dict, list, tuple, set, frozenset):
        return factory()  # type: ignore[misc]
    if factory is not None:
        return FactoryDefault(factory)
    return PydanticUndefined


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """What ``to_json`` and the loader need to know about one field, computed once."""

    name: str
    alias: str | None
    required: bool
    exclude: bool
    default: Any
    empty_factory: type | None  # dict or list when the default factory is one of them
    secret_id: str | None


@dataclass(frozen=True, slots=True)
class ClassPlan:
    """Per-class facts: its fields and its secrets (field name and alias -> secret id)."""

    fields: tuple[FieldPlan, ...]
    by_name: dict[str, FieldPlan]
    secrets: dict[str, str]
    extra_allowed: bool
    accepted_keys: frozenset[str]
    """Field names and aliases: the kwargs a constructor may carry."""
    written: tuple[tuple[str, bool, Any, type | None], ...]
    """(name, required, default, empty_factory) of every field that is not excluded."""
    lc_id: tuple[str, ...]
    raw_fields: frozenset[str]
    data_fields: frozenset[str]
    """Names and aliases of the user data fields (``lc_data_fields`` over the MRO)."""
    data_extras: bool
    """Extra kwargs (of a class that allows them) are user data too."""
    nested_secrets: dict[str, dict[str, str]]
    """Dotted secrets by top kwarg: ``{"auth": {"token": "TOKEN"}}`` for ``auth.token``."""
    serializable: bool
    has_attributes: bool
    """The class overrides ``lc_attributes``."""
    has_extras: bool
    has_factory_defaults: bool = False
    """Some optional field's default is made by a factory at each write (FactoryDefault)."""
    """The class overrides ``_lc_node_extras``."""


_PLANS: dict[type, ClassPlan] = {}


def class_plan(cls: type[Serializable]) -> ClassPlan:
    """The cached :class:`ClassPlan` of a Serializable class."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    declared: dict[str, str] = {}
    data: set[str] = set()
    for klass in reversed(cls.__mro__):
        declared.update(klass.__dict__.get("lc_secret_ids", {}))
        data.update(klass.__dict__.get("lc_data_fields", ()))
    fields = []
    secrets: dict[str, str] = {}
    for name, info in cls.model_fields.items():
        secret_id = declared.get(name)
        if secret_id is None and _mentions_secret(info.annotation):
            secret_id = name.upper()
        factory = info.default_factory if info.default_factory in (dict, list) else None
        fields.append(
            FieldPlan(
                name=name,
                alias=info.alias if info.alias != name else None,
                required=info.is_required(),
                exclude=bool(info.exclude),
                default=_field_default(info),
                empty_factory=factory,  # type: ignore[arg-type]
                secret_id=secret_id,
            )
        )
        if secret_id is not None:
            secrets[name] = secret_id
            if info.alias and info.alias != name:
                secrets[info.alias] = secret_id
    for name, secret_id in declared.items():  # declared secrets that are not fields
        secrets.setdefault(name, secret_id)
    plan = ClassPlan(
        fields=tuple(fields),
        by_name={f.name: f for f in fields},
        secrets=secrets,
        extra_allowed=cls.model_config.get("extra") == "allow",
        accepted_keys=frozenset(
            [f.name for f in fields] + [f.alias for f in fields if f.alias is not None]
        ),
        written=tuple(
            (f.name, f.required, f.default, f.empty_factory) for f in fields if not f.exclude
        ),
        lc_id=tuple(cls.lc_id()),
        raw_fields=cls.lc_raw_fields,
        data_fields=frozenset(
            data.union(f.alias for f in fields if f.alias is not None and f.name in data)
        ),
        data_extras=cls.lc_data_extras,
        nested_secrets=_nested(secrets),
        serializable=cls.is_lc_serializable(),
        has_attributes=cls.lc_attributes is not Serializable.lc_attributes,
        has_extras=cls._lc_node_extras is not Serializable._lc_node_extras,
        has_factory_defaults=any(type(f.default) is FactoryDefault for f in fields),
    )
    _PLANS[cls] = plan
    return plan


def _nested(secrets: dict[str, str]) -> dict[str, dict[str, str]]:
    nested: dict[str, dict[str, str]] = {}
    for path, secret_id in secrets.items():
        top, dot, rest = path.partition(".")
        if dot:
            nested.setdefault(top, {})[rest] = secret_id
    return nested


def _is_useful(default: Any, empty_factory: type | None, value: Any) -> bool:
    """LangChain's rule for writing an optional kwarg: truthy, or not the default."""
    try:
        if value:
            return True
    except Exception:  # values without a truth value (arrays) count as falsy
        pass
    if empty_factory is not None and isinstance(value, empty_factory):
        return False
    if default is PydanticUndefined:
        return True
    try:
        return bool(value != default)
    except Exception:
        return True


def _replace_secrets(kwargs: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    result = dict(kwargs)
    for path, secret_id in secrets.items():
        *parents, last = path.split(".")
        current = result
        for part in parents:
            if not isinstance(current.get(part), dict):
                break
            current[part] = dict(current[part])
            current = current[part]
        else:
            if last in current:
                current[last] = secret_node(secret_id)
    return result


class FieldsEqual:
    """Equality by class and field values only: what an object derives and caches in
    private attributes (a compiled regex, a validator, a built graph, a lock) is not part
    of its value. Put it before the pydantic base: ``class X(FieldsEqual, Serializable)``."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]


class _SerializableMeta(type(BaseModel)):  # type: ignore[misc]
    """Lets a class take its main field positionally (``HumanMessage("hi")``).

    Done here rather than in ``__init__`` so that pydantic validation never goes
    through a Python ``__init__`` (a custom one makes every load validate twice).
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(**cls._init_kwargs(args, kwargs))  # type: ignore[attr-defined]


class Serializable(BaseModel, metaclass=_SerializableMeta):
    """Base of every runwire object with a wire form (LangChain's ``Serializable``)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        arbitrary_types_allowed=True,
        validate_default=False,
        defer_build=True,  # validators are built on first use: import stays cheap
    )

    lc_secret_ids: ClassVar[dict[str, str]] = {}
    """Extra secret declarations: constructor kwarg (dotted for nested) -> secret id."""

    lc_positional: ClassVar[str | None] = None
    """The field a single positional argument fills (``"content"`` for messages)."""

    lc_raw_fields: ClassVar[frozenset[str]] = frozenset()
    """Kwargs the loader hands to the field's validator as written, nodes included:
    for values LangChain writes as ``not_implemented`` nodes that the field can read
    by itself (exception classes by name). Nothing in them is ever instantiated."""

    lc_data_fields: ClassVar[frozenset[str]] = frozenset()
    """Kwargs that hold user data (JSON values), never objects: the loader refuses a
    constructor node anywhere inside them. Subclasses add to their bases' set."""

    lc_data_extras: ClassVar[bool] = False
    """Whether extra kwargs (``extra="allow"``) are user data too."""

    lc_runwire_only_fields: ClassVar[frozenset[str]] = frozenset()
    """Kwargs LangChain never writes (its field is excluded from serialization there):
    kept in runwire's dialect, left out of the ``langchain`` one."""

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Map a Python call's arguments to fields (the loader never goes through here)."""
        if args:
            field = cls.lc_positional
            if field is None or len(args) > 1:
                raise TypeError(f"{cls.__name__}() takes keyword arguments only")
            if field in kwargs:
                raise TypeError(f"{cls.__name__}() got {field!r} twice")
            kwargs[field] = args[0]
        return kwargs

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Whether ``to_json`` writes a constructor node (else a not_implemented node)."""
        return False

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """The id without the class name; by default the module path."""
        return cls.__module__.split(".")

    @classmethod
    def lc_id(cls) -> list[str]:
        """The wire id of the class: ``[*namespace, ClassName]``."""
        meta = cls.__pydantic_generic_metadata__
        name = meta["origin"].__name__ if meta.get("origin") is not None else cls.__name__
        return [*cls.get_lc_namespace(), name]

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Constructor kwarg -> secret id, for every secret of the class (aliases included)."""
        return dict(class_plan(type(self)).secrets)

    @property
    def lc_attributes(self) -> dict[str, Any]:
        """Attributes written to kwargs even when derived from other arguments."""
        return {}

    def _lc_node_extras(self) -> dict[str, Any]:
        """Top-level keys added to the constructor node (runnables add ``name``)."""
        return {}

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """The constructor node of this object, or a not_implemented node."""
        plan = _PLANS.get(type(self)) or class_plan(type(self))
        if not plan.serializable:
            return self.to_json_not_implemented()
        values = self.__dict__
        kwargs: dict[str, Any] = {}
        written = plan.written
        if plan.has_factory_defaults:  # defaults read from the world now, not at plan time
            written = tuple(
                (n, r, d.value() if type(d) is FactoryDefault else d, e) for n, r, d, e in written
            )
        for name, required, default, empty_factory in written:
            value = values.get(name)
            if required:
                kwargs[name] = value
            elif value is None:  # the common unset optional field
                if default is not None:
                    kwargs[name] = value
            elif type(value) is str:
                if value or value != default:
                    kwargs[name] = value
            elif type(value) is empty_factory and not value:
                continue  # an empty dict or list where the default is one: not written
            elif _is_useful(default, empty_factory, value):
                kwargs[name] = value
        if plan.has_attributes:
            kwargs.update(self.lc_attributes)
        secrets = plan.secrets
        if secrets:
            for key in secrets:
                value = values.get(key) if key in plan.by_name else None
                if value is None:
                    value = kwargs.get(key)
                if value is not None:
                    kwargs[key] = value
            kwargs = _replace_secrets(kwargs, secrets)
        node: SerializedConstructor = {
            "lc": 1,
            "type": "constructor",
            "id": list(plan.lc_id),
            "kwargs": kwargs,
        }
        if plan.has_extras:
            node.update(self._lc_node_extras())  # type: ignore[typeddict-item]
        return node

    def to_json_not_implemented(self) -> SerializedNotImplemented:
        """The not_implemented node of this object (its class path and repr)."""
        return not_implemented_node(self)
