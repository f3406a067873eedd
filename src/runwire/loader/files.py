"""Manifest files to objects: compose, interpolate, expand, load.

```python
pipeline = runwire.load_file("configs/chat.yaml")                    # one file
pipeline = runwire.load_file(["base.yaml", "prod.yaml"], sets=["steps.1.temperature=0.3"])
```

Each stage is a pure step over plain data, and every error carries the file, line,
column and JSON path of the node in the file that caused it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runwire.errors import FieldValidationError, format_path
from runwire.loader.authoring import expand
from runwire.loader.interpolate import UNSET_ORIGIN, Placeholder, interpolate, placeholders
from runwire.loader.limits import Limits
from runwire.loader.registry import AllowedObjects
from runwire.loader.source import Parts, Source, compose
from runwire.loader.wire import InitValidator, default_init_validator, load

__all__ = ["Manifest", "Wire", "load_file"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class Wire:
    """A manifest in wire form, with the map back to its file positions."""

    data: Any
    origins: dict[int, Parts]
    source: Source
    interpolated: Mapping[Parts, list[tuple[str, str]]] = field(default_factory=dict)
    """Authoring path -> the ``${VAR}``s its string was made from, with their sources."""

    def source_path(self, parts: Sequence[str | int]) -> Parts:
        """The path in the authoring file of a path in the wire data."""
        node, best, rest = self.data, self.origins.get(id(self.data), ()), 0
        for index, part in enumerate(parts):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
            known = self.origins.get(id(node)) if isinstance(node, dict | list) else None
            if known is not None:
                best, rest = known, index + 1
        return (*best, *parts[rest:])

    def locate(
        self, parts: Sequence[str | int]
    ) -> tuple[str | None, int | None, int | None, Parts]:
        """(file, line, column, authoring path) of a wire path: the loader's ``locate``."""
        shown = self.source_path(parts)
        file, line, column = self.source.locate(shown)
        return file, line, column, shown

    def build(self, **options: Any) -> Any:
        """The objects: :func:`runwire.load` of the data, errors located in the files.

        A field error on a value made by ``${VAR}`` names the variable and where its
        value came from (``unable to parse string as a number`` alone does not say).
        """
        try:
            return load(self.data, source=self.source.files[0], locate=self.locate, **options)
        except FieldValidationError as exc:
            shown = {format_path(parts): used for parts, used in self.interpolated.items()}
            used = shown.get(exc.path)
            if used:
                sources = "; ".join(f"${{{name}}}: {origin}" for name, origin in used)
                exc.message = f"{exc.message} (the value comes from {sources})"
                exc.args = (exc.message,)
                names = ", ".join(dict.fromkeys(name for name, _ in used))
                exc.hint = f"set {names} (or the default) to a value of the field's type"
                raise
            # a component refusing its fields together: name the variables below it
            inner = [
                (path, name, origin)
                for path, values in shown.items()
                if path.startswith((f"{exc.path}.", f"{exc.path}["))
                for name, origin in values
                if origin.startswith(UNSET_ORIGIN)  # the likely cause: a value not there yet
            ]
            if inner:
                sources = "; ".join(
                    f"{path} from ${{{name}}}: {origin}" for path, name, origin in inner
                )
                exc.message = f"{exc.message} (its fields hold {sources})"
                exc.args = (exc.message,)
                names = ", ".join(dict.fromkeys(name for _, name, _ in inner))
                exc.hint = f"set {names} (or the default), then check the fields again"
            raise


@dataclass(frozen=True, slots=True)
class Manifest:
    """A composed manifest (files merged, includes spliced, ``--set`` applied)."""

    data: Any
    source: Source

    @classmethod
    def read(
        cls,
        paths: PathLike | Sequence[PathLike],
        *,
        sets: Iterable[str] = (),
        root: PathLike | None = None,
        limits: Limits | None = None,
    ) -> Manifest:
        """Read one file, or several as overlays (later ones win)."""
        names = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        data, source = compose(names, sets=sets, root=root, limits=limits)
        return cls(data, source)

    @property
    def files(self) -> list[str]:
        return self.source.files

    def placeholders(self) -> list[Placeholder]:
        """Every ``${VAR}`` the manifest reads."""
        return placeholders(self.data)

    def wire(
        self,
        env: Mapping[str, str] | None = None,
        *,
        keep_unset: bool = False,
        secret_names: Iterable[str] = (),
        trusted: bool = True,
    ) -> Wire:
        """Interpolated from ``env`` (default ``os.environ``) and expanded to wire form.

        ``secret_names`` are never interpolated (besides the manifest's own secret nodes);
        an untrusted manifest reads allowlisted variables only.
        """
        interpolated: dict[Parts, list[tuple[str, str]]] = {}
        data = interpolate(
            self.data,
            os.environ if env is None else env,
            keep_unset=keep_unset,
            locate=self.source.locate,
            secret_names=secret_names,
            trusted=trusted,
            record=interpolated,
        )
        origins: dict[int, Parts] = {}
        wire = expand(data, origins=origins, locate=self.source.locate)
        return Wire(wire, origins, self.source, interpolated)

    def build(
        self,
        *,
        env: Mapping[str, str] | None = None,
        keep_unset: bool = False,
        secrets_map: Mapping[str, str] | None = None,
        secrets_from_env: bool = False,
        allowed_objects: AllowedObjects = "all",
        valid_namespaces: Iterable[str] | None = None,
        init_validator: InitValidator | None = default_init_validator,
        limits: Limits | None = None,
        track: dict[int, Parts] | None = None,
        trusted: bool = True,
        allowed_endpoints: Iterable[str] = (),
    ) -> Any:
        """The objects the manifest describes (see :func:`runwire.load` for the options).

        A file is the deployer's own, so it is ``trusted`` unless told otherwise.
        """
        names = tuple(secrets_map) if secrets_map is not None else ()
        wire = self.wire(env, keep_unset=keep_unset, secret_names=names, trusted=trusted)
        return wire.build(
            secrets_map=secrets_map,
            secrets_from_env=secrets_from_env,
            allowed_objects=allowed_objects,
            valid_namespaces=valid_namespaces,
            init_validator=init_validator,
            limits=limits,
            track=track,
            trusted=trusted,
            allowed_endpoints=allowed_endpoints,
        )


def load_file(
    paths: PathLike | Sequence[PathLike],
    *,
    sets: Iterable[str] = (),
    root: PathLike | None = None,
    env: Mapping[str, str] | None = None,
    secrets_map: Mapping[str, str] | None = None,
    secrets_from_env: bool | None = None,
    allowed_objects: AllowedObjects = "all",
    valid_namespaces: Iterable[str] | None = None,
    init_validator: InitValidator | None = default_init_validator,
    limits: Limits | None = None,
    trusted: bool = True,
    allowed_endpoints: Iterable[str] = (),
) -> Any:
    """Load a YAML or JSON manifest file (authoring or wire form) into objects.

    With the defaults it does what ``runwire run`` does: the file is trusted, and its
    secrets are read from ``secrets_map`` and then the environment. A file loaded with
    ``trusted=False`` reads secrets only from ``secrets_map`` (unless
    ``secrets_from_env=True`` is passed): an untrusted file never picks values from the
    environment on its own.

    Args:
        paths: a file, or several: later files deep-merge over earlier ones.
        sets: ``"dotted.path=value"`` overrides, applied after the files.
        root: the folder includes must stay inside (default: the nearest folder up
            holding ``.git``, ``pyproject.toml`` or ``runwire.yaml``).
        env: where ``${VAR}`` reads from (default ``os.environ``).
        secrets_map: secret name -> value, asked first.
        secrets_from_env: read secrets the map does not hold from ``os.environ``;
            ``None`` (the default) means ``trusted``. A secret the file names that is
            found nowhere is a ``MissingSecretError`` (naming every missing one).
        allowed_objects, valid_namespaces, init_validator, limits: as for
            :func:`runwire.load`; ``allowed_objects`` defaults to ``"all"`` here, since
            a file on disk is the deployer's own.
        trusted, allowed_endpoints: as for :func:`runwire.load`, but trusted by default
            (pass ``trusted=False`` for a file someone else wrote).
    """
    manifest = Manifest.read(paths, sets=sets, root=root, limits=limits)
    return manifest.build(
        env=env,
        secrets_map=secrets_map,
        secrets_from_env=trusted if secrets_from_env is None else secrets_from_env,
        allowed_objects=allowed_objects,
        valid_namespaces=valid_namespaces,
        init_validator=init_validator,
        limits=limits,
        trusted=trusted,
        allowed_endpoints=allowed_endpoints,
    )
