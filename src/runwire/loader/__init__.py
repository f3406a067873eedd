"""Text to objects: the wire-form loader and the class registry."""

from runwire.loader.limits import Limits, parse_json
from runwire.loader.registry import allowed_ids, lookup, register
from runwire.loader.wire import default_init_validator, load, loads

__all__ = [
    "Limits",
    "allowed_ids",
    "default_init_validator",
    "load",
    "loads",
    "lookup",
    "parse_json",
    "register",
]
