"""Samples of the AWS data classes (issue 20: MemoryDB, Neptune), merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SAMPLES: dict[str, Callable[[], Any]] = {}
