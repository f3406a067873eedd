"""The index schema of ``InMemoryVectorStore``: langchain-aws's ``InMemoryDBModel`` shape.

A schema is a dict (or a YAML file of one) with lists of fields by kind::

    text: [{name: content}, {name: user}]
    tag: [{name: colors, separator: ","}]
    numeric: [{name: year}]
    vector: [{name: content_vector, algorithm: HNSW, dims: 1536, distance_metric: COSINE}]

``content`` (text) and ``content_vector`` always exist: the vector field is added from
``vector_schema`` (FLAT, 1536 dims, COSINE, FLOAT32 unless given) when the schema has
none. ``as_dict`` writes it back in the same form; ``create_args`` is the ``FT.CREATE``
SCHEMA part.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_VECTOR_SCHEMA",
    "TAG_SEPARATOR",
    "FlatVectorField",
    "HNSWVectorField",
    "IndexSchema",
    "NumericFieldSchema",
    "TagFieldSchema",
    "TextFieldSchema",
    "generate_field_schema",
    "prepare_metadata",
    "read_schema",
]

TAG_SEPARATOR = ","
DEFAULT_VECTOR_SCHEMA: dict[str, Any] = {
    "name": "content_vector",
    "algorithm": "FLAT",
    "dims": 1536,
    "distance_metric": "COSINE",
    "datatype": "FLOAT32",
}
"""The vector field of a schema that declares none (langchain-aws's default)."""
VECTOR_FORMATS = {"FLOAT32": "f", "FLOAT64": "d"}


class _Field(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


class TextFieldSchema(_Field):
    """A TEXT attribute."""

    weight: float = 1
    no_stem: bool = False
    phonetic_matcher: str | None = None
    withsuffixtrie: bool = False
    no_index: bool = False
    sortable: bool | None = False

    def args(self) -> list[Any]:
        out: list[Any] = [self.name, "TEXT", "WEIGHT", self.weight]
        out += ["NOSTEM"] if self.no_stem else []
        out += ["PHONETIC", self.phonetic_matcher] if self.phonetic_matcher else []
        out += ["WITHSUFFIXTRIE"] if self.withsuffixtrie else []
        out += ["SORTABLE"] if self.sortable else []
        return out + (["NOINDEX"] if self.no_index else [])


class TagFieldSchema(_Field):
    """A TAG attribute."""

    separator: str = ","
    case_sensitive: bool = False
    no_index: bool = False
    sortable: bool | None = False

    def args(self) -> list[Any]:
        out: list[Any] = [self.name, "TAG", "SEPARATOR", self.separator]
        out += ["CASESENSITIVE"] if self.case_sensitive else []
        out += ["SORTABLE"] if self.sortable else []
        return out + (["NOINDEX"] if self.no_index else [])


class NumericFieldSchema(_Field):
    """A NUMERIC attribute."""

    no_index: bool = False
    sortable: bool | None = False

    def args(self) -> list[Any]:
        out: list[Any] = [self.name, "NUMERIC"]
        out += ["SORTABLE"] if self.sortable else []
        return out + (["NOINDEX"] if self.no_index else [])


class _VectorField(_Field):
    dims: int = Field(gt=0, le=32768)
    datatype: str = "FLOAT32"
    distance_metric: Literal["COSINE", "IP", "L2"] = "COSINE"
    initial_cap: int | None = None

    @field_validator("datatype", "distance_metric", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.upper()
        return value

    @field_validator("datatype")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in VECTOR_FORMATS:
            raise ValueError(f"datatype must be one of {sorted(VECTOR_FORMATS)}, got {value!r}")
        return value

    def _params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "TYPE": self.datatype,
            "DIM": self.dims,
            "DISTANCE_METRIC": self.distance_metric,
        }
        if self.initial_cap is not None:
            params["INITIAL_CAP"] = self.initial_cap
        return params

    def _vector_args(self, algorithm: str, params: dict[str, Any]) -> list[Any]:
        flat = [x for pair in params.items() for x in pair]
        return [self.name, "VECTOR", algorithm, len(flat), *flat]


class FlatVectorField(_VectorField):
    """A VECTOR attribute searched exhaustively."""

    algorithm: Literal["FLAT"] = "FLAT"
    block_size: int | None = None

    def args(self) -> list[Any]:
        params = self._params()
        if self.block_size is not None:
            params["BLOCK_SIZE"] = self.block_size
        return self._vector_args("FLAT", params)


class HNSWVectorField(_VectorField):
    """A VECTOR attribute with an HNSW graph."""

    algorithm: Literal["HNSW"] = "HNSW"
    m: int = 16
    ef_construction: int = 200
    ef_runtime: int = 10
    epsilon: float = 0.01

    def args(self) -> list[Any]:
        params = self._params()
        params.update(
            M=self.m,
            EF_CONSTRUCTION=self.ef_construction,
            EF_RUNTIME=self.ef_runtime,
            EPSILON=self.epsilon,
        )
        return self._vector_args("HNSW", params)


def _vector_field(spec: dict[str, Any]) -> FlatVectorField | HNSWVectorField:
    algorithm = str(spec.get("algorithm", "FLAT")).upper()
    if algorithm == "FLAT":
        return FlatVectorField(**{**spec, "algorithm": "FLAT"})
    if algorithm == "HNSW":
        return HNSWVectorField(**{**spec, "algorithm": "HNSW"})
    raise ValueError(f"algorithm must be either FLAT or HNSW. Got {spec.get('algorithm')}")


class IndexSchema(BaseModel):
    """Fields of an index by kind, and which ones hold the content and its vector."""

    model_config = ConfigDict(extra="forbid")

    text: list[TextFieldSchema] = Field(default_factory=lambda: [TextFieldSchema(name="content")])
    tag: list[TagFieldSchema] | None = None
    numeric: list[NumericFieldSchema] | None = None
    vector: list[FlatVectorField | HNSWVectorField] | None = None
    content_key: str = "content"
    content_vector_key: str = "content_vector"

    @field_validator("vector", mode="before")
    @classmethod
    def _vectors(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_vector_field(v) if isinstance(v, dict) else v for v in value]
        return value

    def add_content_field(self) -> None:
        """Add the content text field unless the text fields have it."""
        if not any(f.name == self.content_key for f in self.text):
            self.text.append(TextFieldSchema(name=self.content_key))

    def add_vector_field(self, spec: dict[str, Any]) -> None:
        """Add a vector field from its dict form."""
        self.vector = [*(self.vector or []), _vector_field(spec)]

    @property
    def content_vector(self) -> FlatVectorField | HNSWVectorField:
        """The vector field of the content (a ValueError when there is none)."""
        for field in self.vector or ():
            if field.name == self.content_vector_key:
                return field
        raise ValueError("No content_vector field found")

    @property
    def vector_format(self) -> str:
        """The struct code of the content vector's values (``f`` or ``d``)."""
        return VECTOR_FORMATS[self.content_vector.datatype]

    def _groups(self) -> list[list[Any]]:
        return [g for g in (self.text, self.tag, self.numeric, self.vector) if g]

    @property
    def metadata_keys(self) -> list[str]:
        """The fields other than the content and its vector."""
        skip = (self.content_key, self.content_vector_key)
        return [f.name for g in self._groups() for f in g if f.name not in skip]

    def create_args(self) -> list[Any]:
        """The ``SCHEMA ...`` arguments of ``FT.CREATE``."""
        return [x for g in self._groups() for f in g for x in f.args()]

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The schema in its dict form (fields left at None omitted), as langchain-aws writes it."""
        out: dict[str, list[dict[str, Any]]] = {}
        for kind in ("text", "tag", "numeric", "vector"):
            group = getattr(self, kind)
            if group:
                out[kind] = [f.model_dump(exclude_none=True) for f in group]
        return out


def read_schema(schema: dict[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """A schema dict, or the YAML file at a path (read with a safe loader)."""
    if isinstance(schema, dict):
        return schema
    if isinstance(schema, str | os.PathLike):
        path = Path(schema)
        if not path.is_file():
            raise FileNotFoundError(f"index_schema file {schema} does not exist")
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"index_schema file {schema} must hold a mapping")
        return data
    raise TypeError(f"index_schema must be a dict, or path to a yaml file Got {type(schema)}")


def generate_field_schema(metadata: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Fields for a metadata dict: numbers numeric, strings text, lists of strings tags."""
    result: dict[str, list[dict[str, str]]] = {"text": [], "numeric": [], "tag": []}
    for key, value in metadata.items():
        if isinstance(value, bool | int | float) or (
            isinstance(value, str) and value.strip().lstrip("-").isdigit()
        ):
            result["numeric"].append({"name": key})
        elif value is None:
            continue
        elif isinstance(value, list | tuple):
            if value and not isinstance(value[0], str):
                name = type(value[0]).__name__
                raise ValueError(f"List/tuple values should contain strings: '{key}': {name}")
            result["tag"].append({"name": key})
        elif isinstance(value, str):
            result["text"].append({"name": key})
        else:
            raise ValueError(
                "Could not generate MemoryDB index field type mapping for metadata: "
                f"'{key}': {type(value).__name__}"
            )
    return result


def prepare_metadata(metadata: dict[str, Any]) -> dict[str, str | int | float]:
    """Metadata as hash fields: None -> ``""``, lists of strings joined with ``,``."""
    clean: dict[str, str | int | float] = {}
    for key, value in metadata.items():
        if value is None:
            clean[key] = ""
        elif isinstance(value, str | int | float):
            clean[key] = value
        elif isinstance(value, list | tuple) and (not value or isinstance(value[0], str)):
            clean[key] = TAG_SEPARATOR.join(value)
        else:
            raise ValueError(
                f"Metadata value for key '{key}' must be a string, int, float, or list of "
                f"strings. Got {type(value).__name__}"
            )
    return clean
