"""The public names of ``runwire`` and ``runwire.runtime`` resolve, and load lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import runwire
import runwire.runtime


@pytest.mark.parametrize("package", [runwire, runwire.runtime], ids=lambda p: p.__name__)
def test_every_exported_name_resolves(package: object) -> None:
    names = [n for n in package.__all__ if n != "__version__"]  # type: ignore[attr-defined]
    assert sorted(names) == sorted(package._EXPORTS)  # type: ignore[attr-defined]
    for name in names:
        assert getattr(package, name) is not None, name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        runwire.runtime.Nope  # noqa: B018


def test_importing_the_runtime_package_loads_no_pydantic() -> None:
    code = "import sys, runwire.runtime; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
