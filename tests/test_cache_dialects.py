"""A chat model's `cache` is runwire's: kept in runwire's dialect, left out of LangChain's
(LangChain excludes its `cache` field from serialization)."""

from __future__ import annotations

import warnings

import pytest

import runwire
from runwire.providers.aws import ChatBedrockConverse
from runwire.runtime.cache import InMemoryCache

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _model() -> ChatBedrockConverse:
    return ChatBedrockConverse(model=MODEL, region_name="us-east-1", cache=InMemoryCache())


def test_runwire_dialect_keeps_the_cache_and_loads_it_back() -> None:
    model = _model()
    assert runwire.dumpd(model)["kwargs"]["cache"]["id"][-1] == "InMemoryCache"
    loaded = runwire.loads(runwire.dumps(model), allowed_objects="all")
    assert isinstance(loaded.cache, InMemoryCache)


def test_langchain_dialect_leaves_it_out() -> None:
    model = _model()
    node = runwire.dumpd(model, dialect="langchain")
    assert "cache" not in node["kwargs"] and "model" in str(node["kwargs"])
    assert '"cache"' not in runwire.dumps(model, dialect="langchain")
    assert "cache" in runwire.dumpd(model)["kwargs"]  # the object is untouched


def test_langchain_loads_the_langchain_dialect() -> None:
    pytest.importorskip("langchain_aws")
    from langchain_core.load import loads

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = loads(
            runwire.dumps(_model(), dialect="langchain"),
            valid_namespaces=["langchain_aws"],
            allowed_objects="all",
        )
    assert model.cache is None
