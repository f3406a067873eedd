"""runwire's pytest plugin (entry point ``pytest11``): the ``manifest_snapshot`` fixture.

```python
def test_pipeline(manifest_snapshot):
    manifest_snapshot("configs/chat.yaml")        # a file, or a loaded pipeline
```

The snapshot is the pipeline's canonical wire form: sorted keys, 2-space indent, and
no secret values (secret fields are always written as secret nodes). It is compared
with syrupy's ``snapshot``; update with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["manifest_snapshot"]


def canonical_text(pipeline: Any, *, dialect: str = "runwire") -> str:
    """The snapshot text of a pipeline object, or of a manifest file path."""
    from runwire.loader.files import Manifest
    from runwire.loader.validate import PlaceholderSecrets
    from runwire.schema.dump import dumps

    if isinstance(pipeline, str | os.PathLike):
        pipeline = Manifest.read(pipeline).build(
            secrets_map=PlaceholderSecrets(), env={}, keep_unset=True
        )
    return dumps(pipeline, pretty=True, sort_keys=True, dialect=dialect)  # type: ignore[arg-type]


@pytest.fixture
def manifest_snapshot(snapshot: Any) -> Callable[..., None]:
    """Assert that a pipeline (object or manifest path) matches its stored snapshot."""

    def check(pipeline: Any, *, dialect: str = "runwire") -> None:
        assert canonical_text(pipeline, dialect=dialect) == snapshot

    return check
