"""The wire format: ``Serializable``, lc nodes, escaping, the id table, ``dumpd``/``dumps``."""

from runwire.schema.documents import Document
from runwire.schema.dump import dumpd, dumps
from runwire.schema.ids import ClassEntry, id_table
from runwire.schema.nodes import SerializedConstructor, SerializedNotImplemented, SerializedSecret
from runwire.schema.serializable import Serializable

__all__ = [
    "ClassEntry",
    "Document",
    "Serializable",
    "SerializedConstructor",
    "SerializedNotImplemented",
    "SerializedSecret",
    "dumpd",
    "dumps",
    "id_table",
]
