"""Configurable fields and alternatives: per-call configuration, specs, wire form."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from pydantic import Field

import runwire
from conftest import LOAD_TEST_CLASSES, TEST_NS
from runwire.errors import FieldValidationError
from runwire.loader.registry import register
from runwire.runtime.config import RunnableConfig
from runwire.runtime.configurable import (
    ConfigurableField,
    ConfigurableFieldMultiOption,
    ConfigurableFieldSingleOption,
    RunnableConfigurableAlternatives,
    RunnableConfigurableFields,
    prefix_config_spec,
)
from runwire.runtime.configurable_spec import ConfigurableFieldSpec
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.sequence import RunnableSequence
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.ids import IdTable

LC_NS = ["langchain", "schema", "runnable"]


class FakeModel(RunnableSerializable[str, str]):
    """A serializable runnable with plain fields: answers ``model@temperature:input``."""

    model: str = "small"
    temperature: float = Field(default=0.0, description="Sampling temperature")
    stop: list[str] = Field(default_factory=list)

    sync_is_cheap = True

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return [TEST_NS]

    def _answer(self, value: Any) -> str:
        stop = f"|{','.join(self.stop)}" if self.stop else ""
        return f"{self.model}@{self.temperature}{stop}:{value}"

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> str:
        return self._call_with_config(lambda v, _: self._answer(v), input, config)

    def stream(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        yield from self.transform(iter([input]), config)

    def transform(
        self, input: Iterator[str], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[str]:
        def run(chunks: Iterator[str], cfg: RunnableConfig) -> Iterator[str]:
            yield from self._answer("".join(chunks))

        yield from self._transform_with_config(input, run, config)

    async def atransform(
        self, input: AsyncIterator[str], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async def run(chunks: AsyncIterator[str], cfg: RunnableConfig) -> AsyncIterator[str]:
            text = "".join([c async for c in chunks])
            for char in self._answer(text):
                yield char

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[str]:
        async def one() -> AsyncIterator[str]:
            yield input

        async for chunk in self.atransform(one(), config):
            yield chunk


FAKE_LC_ID = ["langchain_community", "chat_models", "fake", "FakeModel"]


@pytest.fixture
def fake_registered(id_table_snapshot: IdTable) -> IdTable:
    """FakeModel registered (with a LangChain alias) for one test; the table is restored."""
    register(langchain_id=FAKE_LC_ID)(FakeModel)
    return id_table_snapshot


def temp_field(**kwargs: Any) -> RunnableConfigurableFields[str, str]:
    return FakeModel().configurable_fields(  # type: ignore[return-value]
        temperature=ConfigurableField(id="temperature", **kwargs)
    )


def run_async(coro: Any) -> Any:
    return asyncio.run(coro)


def cfg(**values: Any) -> RunnableConfig:
    return {"configurable": values}


# -- the field declarations ------------------------------------------------------------


def test_field_declarations_are_hashable_named_tuples() -> None:
    field = ConfigurableField(id="t", name="T")
    assert field == ("t", "T", None, None, False)
    assert hash(field) == hash(ConfigurableField(id="t", name="other"))  # id + annotation
    single = ConfigurableFieldSingleOption(id="s", options={"a": [1]}, default="a")
    multi = ConfigurableFieldMultiOption(id="m", options={"a": {}, "b": {}}, default=["a"])
    assert len({single, multi, field}) == 3  # unhashable option values are fine


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (["t", None, None, None, False], ConfigurableField(id="t")),
        (["t", "T", "desc"], ConfigurableField(id="t", name="T", description="desc")),
        ({"id": "t", "is_shared": True}, ConfigurableField(id="t", is_shared=True)),
        (
            ["s", {"a": 1}, "a", None, None, False],
            ConfigurableFieldSingleOption(id="s", options={"a": 1}, default="a"),
        ),
        (
            ["m", {"a": 1, "b": 2}, ["a", "b"], "M", None, True],
            ConfigurableFieldMultiOption(
                id="m", options={"a": 1, "b": 2}, default=("a", "b"), name="M", is_shared=True
            ),
        ),
    ],
)
def test_wire_lists_become_field_declarations(wire: Any, expected: Any) -> None:
    built = RunnableConfigurableFields.model_validate(
        {"default": FakeModel(), "fields": {"model": wire}}
    )
    assert built.fields["model"] == expected
    assert type(built.fields["model"]) is type(expected)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ([], "expected a ConfigurableField"),
        ([1, None], "string 'id'"),
        (["t", None, None, None, False, "extra"], "at most 5 items"),
        ("temperature", "expected a ConfigurableField"),
    ],
)
def test_bad_wire_lists_are_refused(wire: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunnableConfigurableFields.model_validate(
            {"default": FakeModel(), "fields": {"model": wire}}
        )


def test_which_must_be_a_plain_field() -> None:
    with pytest.raises(ValueError, match="'which' must be a ConfigurableField"):
        RunnableConfigurableAlternatives(
            which=["w", {"a": 1}, "a"], default=FakeModel(), alternatives={}, prefix_keys=False
        )


# -- configurable fields ---------------------------------------------------------------


def test_field_is_set_per_call_sync_and_async() -> None:
    model = temp_field()
    assert model.invoke("hi") == "small@0.0:hi"
    assert model.invoke("hi", cfg(temperature=0.7)) == "small@0.7:hi"
    assert run_async(model.ainvoke("hi", cfg(temperature=0.5))) == "small@0.5:hi"
    assert model.default.temperature == 0.0  # the wrapped runnable is never changed


def test_field_values_are_validated_by_the_runnables_model() -> None:
    model = temp_field()
    assert model.invoke("x", cfg(temperature="0.25")) == "small@0.25:x"  # pydantic coercion
    with pytest.raises(ValueError, match=r"configurable 'temperature' \(field 'temperature'\)"):
        model.invoke("x", cfg(temperature="hot"))


def test_unknown_configurable_keys_are_ignored() -> None:
    model = temp_field()
    assert model.invoke("x", cfg(nope=1, other="y")) == "small@0.0:x"
    runnable, _ = model.prepare(cfg(nope=1))
    assert runnable is model.default  # nothing to change: no copy


def test_unconfigured_fields_are_kept_when_rebuilding() -> None:
    model = FakeModel(model="big", stop=["\n"]).configurable_fields(
        temperature=ConfigurableField(id="temperature")
    )
    assert model.invoke("x", cfg(temperature=1.0)) == "big@1.0|\n:x"


def test_batch_streams_and_transforms_use_the_configured_runnable() -> None:
    model = temp_field()
    assert model.batch(["a", "b"], [cfg(temperature=0.1), cfg()]) == [
        "small@0.1:a",
        "small@0.0:b",
    ]
    assert model.batch(["a", "b"]) == ["small@0.0:a", "small@0.0:b"]
    assert model.batch([]) == []
    assert "".join(model.stream("s", cfg(temperature=0.2))) == "small@0.2:s"
    assert "".join(model.transform(iter(["t", "u"]), cfg(temperature=0.3))) == "small@0.3:tu"

    async def go() -> tuple[Any, ...]:
        chunks = [c async for c in model.astream("s", cfg(temperature=0.4))]

        async def feed() -> AsyncIterator[str]:
            yield "v"

        trans = [c async for c in model.atransform(feed(), cfg(temperature=0.6))]
        batch = await model.abatch(["a", "b"], [cfg(temperature=0.9), cfg()])
        same = await model.abatch(["c"])
        return "".join(chunks), "".join(trans), batch, same

    assert run_async(go()) == (
        "small@0.4:s",
        "small@0.6:v",
        ["small@0.9:a", "small@0.0:b"],
        ["small@0.0:c"],
    )


def test_batch_returns_exceptions_when_asked() -> None:
    model = temp_field()
    out = model.batch(["a", "b"], [cfg(temperature="bad"), cfg()], return_exceptions=True)
    assert isinstance(out[0], ValueError)
    assert out[1] == "small@0.0:b"
    aout = run_async(
        model.abatch(["a", "b"], [cfg(), cfg(temperature="bad")], return_exceptions=True)
    )
    assert aout[0] == "small@0.0:a"
    assert isinstance(aout[1], ValueError)
    with pytest.raises(ValueError, match="configurable 'temperature'"):
        model.batch(["a", "b"], [cfg(temperature="bad"), cfg()])


def test_config_specs_of_a_field() -> None:
    assert temp_field(name="Temperature").config_specs == [
        ConfigurableFieldSpec(
            id="temperature",
            annotation=float,
            name="Temperature",
            description="Sampling temperature",  # from the field when the spec has none
            default=0.0,
        )
    ]
    spec = temp_field(annotation=int, description="Own", is_shared=True).config_specs[0]
    assert (spec.annotation, spec.description, spec.is_shared) == (int, "Own", True)


def test_configurable_fields_refuses_keys_that_are_not_fields() -> None:
    with pytest.raises(ValueError, match="'temprature' is not a field of FakeModel"):
        FakeModel().configurable_fields(temprature=ConfigurableField(id="t"))
    with pytest.raises(ValueError, match="not a field of FakeModel"):  # the pydantic path too
        RunnableConfigurableFields.model_validate(
            {"default": FakeModel(), "fields": {"nope": ConfigurableField(id="x")}}
        )


def test_configurable_fields_needs_a_pydantic_default() -> None:
    with pytest.raises(ValueError, match="pydantic runnable"):
        RunnableConfigurableFields(default=RunnableLambda(lambda x: x), fields={})


def test_configurable_fields_again_merges_the_declarations() -> None:
    both = temp_field().configurable_fields(model=ConfigurableField(id="model"))
    assert isinstance(both, RunnableConfigurableFields)
    assert isinstance(both.default, FakeModel)
    assert set(both.fields) == {"temperature", "model"}
    assert both.invoke("x", cfg(model="big", temperature=2.0)) == "big@2.0:x"


# -- option fields ---------------------------------------------------------------------


def single_option() -> RunnableConfigurableFields[str, str]:
    return FakeModel().configurable_fields(  # type: ignore[return-value]
        model=ConfigurableFieldSingleOption(
            id="model_choice", options={"fast": "tiny", "smart": "huge"}, default="fast"
        )
    )


def test_single_option_maps_keys_to_values() -> None:
    model = single_option()
    assert model.invoke("x") == "tiny@0.0:x"  # the default key applies even unconfigured
    assert model.invoke("x", cfg(model_choice="smart")) == "huge@0.0:x"
    assert model.invoke("x", cfg(model_choice=None)) == "tiny@0.0:x"
    with pytest.raises(ValueError, match="configurable 'model_choice': unknown option 'dumb'"):
        model.invoke("x", cfg(model_choice="dumb"))


def test_single_option_spec_is_an_enum_of_the_keys() -> None:
    (spec,) = single_option().config_specs
    assert spec.id == "model_choice"
    assert spec.default == "fast"
    assert [m.value for m in spec.annotation] == ["fast", "smart"]
    assert spec.annotation.__name__ == "model_choice"
    assert single_option().config_specs[0] == spec  # one enum class per declaration


def multi_option(default: Sequence[str] = ("nl",)) -> RunnableConfigurableFields[str, str]:
    return FakeModel().configurable_fields(  # type: ignore[return-value]
        stop=ConfigurableFieldMultiOption(
            id="stops", options={"nl": "\n", "dot": ".", "end": "END"}, default=default
        )
    )


def test_multi_option_maps_each_key() -> None:
    model = multi_option()
    assert model.invoke("x") == "small@0.0|\n:x"
    assert model.invoke("x", cfg(stops=["dot", "end"])) == "small@0.0|.,END:x"
    assert model.invoke("x", cfg(stops=[])) == "small@0.0:x"
    with pytest.raises(ValueError, match="configurable 'stops': unknown option 'tab'"):
        model.invoke("x", cfg(stops=["tab"]))
    with pytest.raises(ValueError, match="configurable 'stops': expected a list"):
        model.invoke("x", cfg(stops="dot"))


def test_multi_option_spec_is_a_sequence_of_the_enum() -> None:
    (spec,) = multi_option(["nl", "dot"]).config_specs
    (member,) = spec.annotation.__args__
    assert [m.value for m in member] == ["nl", "dot", "end"]
    assert spec.default == ("nl", "dot")


def test_option_defaults_must_be_options() -> None:
    with pytest.raises(ValueError, match="default 'slow' is not one of its options"):
        FakeModel().configurable_fields(
            model=ConfigurableFieldSingleOption(id="m", options={"fast": "f"}, default="slow")
        )
    with pytest.raises(ValueError, match="default 'x' is not one of its options"):
        multi_option(["x"])


def test_shared_fields_keep_their_id_under_a_prefix() -> None:
    shared = ConfigurableFieldSpec(id="k", annotation=str, is_shared=True)
    own = ConfigurableFieldSpec(id="k", annotation=str)
    assert prefix_config_spec(shared, "which==a") is shared
    assert prefix_config_spec(own, "which==a").id == "which==a/k"


# -- alternatives ----------------------------------------------------------------------


def alternatives(**kwargs: Any) -> RunnableConfigurableAlternatives[str, str]:
    return FakeModel(model="base").configurable_alternatives(  # type: ignore[return-value]
        ConfigurableField(id="llm", name="LLM"),
        big=FakeModel(model="big"),
        **kwargs,
    )


def test_alternatives_pick_a_runnable_by_key() -> None:
    alt = alternatives()
    assert alt.invoke("x") == "base@0.0:x"
    assert alt.invoke("x", cfg(llm="default")) == "base@0.0:x"
    assert alt.invoke("x", cfg(llm="big")) == "big@0.0:x"
    assert run_async(alt.ainvoke("x", cfg(llm="big"))) == "big@0.0:x"
    assert alt.batch(["a", "b"], [cfg(llm="big"), cfg()]) == ["big@0.0:a", "base@0.0:b"]
    assert "".join(alt.stream("s", cfg(llm="big"))) == "big@0.0:s"

    async def go() -> tuple[Any, ...]:
        batch = await alt.abatch(["a", "b"], [cfg(llm="big"), cfg()])
        chunks = [c async for c in alt.astream("s", cfg(llm="big"))]
        return batch, "".join(chunks)

    assert run_async(go()) == (["big@0.0:a", "base@0.0:b"], "big@0.0:s")
    with pytest.raises(ValueError, match=r"configurable 'llm': unknown alternative 'huge'"):
        alt.invoke("x", cfg(llm="huge"))


def test_alternatives_with_a_default_key_and_factories() -> None:
    built: list[str] = []

    def make() -> FakeModel:
        built.append("lazy")
        return FakeModel(model="lazy")

    alt = FakeModel(model="base").configurable_alternatives(
        ConfigurableField(id="llm"), default_key="base", lazy=make
    )
    assert alt.invoke("x", cfg(llm="base")) == "base@0.0:x"
    assert built == []
    assert alt.invoke("x", cfg(llm="lazy")) == "lazy@0.0:x"
    assert built == ["lazy"]
    with pytest.raises(ValueError, match="unknown alternative 'default'"):
        alt.invoke("x", cfg(llm="default"))
    (spec,) = alt.config_specs
    assert [m.value for m in spec.annotation] == ["lazy", "base"]
    assert spec.default == "base"


def prefixed() -> RunnableConfigurableAlternatives[str, str]:
    return temp_field().configurable_alternatives(  # type: ignore[return-value]
        ConfigurableField(id="llm"),
        prefix_keys=True,
        big=FakeModel(model="big").configurable_fields(
            temperature=ConfigurableField(id="temperature"),
            model=ConfigurableField(id="shared_model", is_shared=True),
        ),
    )


def test_prefix_keys_namespace_each_alternatives_ids() -> None:
    alt = prefixed()
    assert [s.id for s in alt.config_specs] == [
        "llm",
        "llm==big/temperature",
        "llm==default/temperature",
        "shared_model",
    ]
    assert alt.invoke("x", cfg(**{"llm==default/temperature": 0.5})) == "small@0.5:x"
    big = {"llm": "big", "llm==big/temperature": 0.9, "llm==default/temperature": 0.1}
    assert alt.invoke("x", cfg(**big)) == "big@0.9:x"
    assert alt.invoke("x", cfg(llm="big", shared_model="giant")) == "giant@0.0:x"
    # only the chosen alternative's prefix is stripped; other keys pass through (LangChain)
    assert alt.invoke("x", cfg(llm="big", temperature=0.3)) == "big@0.3:x"
    assert alt.invoke("x", cfg(**{"llm==big/temperature": 0.3})) == "small@0.0:x"


def test_without_prefix_keys_the_ids_are_shared() -> None:
    alt = temp_field().configurable_alternatives(
        ConfigurableField(id="llm"),
        big=FakeModel(model="big").configurable_fields(
            temperature=ConfigurableField(id="temperature")
        ),
    )
    assert [s.id for s in alt.config_specs] == ["llm", "temperature"]
    assert alt.invoke("x", cfg(llm="big", temperature=0.3)) == "big@0.3:x"
    assert alt.invoke("x", cfg(temperature=0.2)) == "small@0.2:x"


def test_conflicting_specs_are_an_error() -> None:
    alt = temp_field().configurable_alternatives(
        ConfigurableField(id="llm"),
        other=FakeModel().configurable_fields(
            temperature=ConfigurableField(id="temperature", name="Other name")
        ),
    )
    with pytest.raises(ValueError, match="'temperature' is declared twice"):
        _ = alt.config_specs


def test_configurable_fields_on_alternatives_configure_the_default() -> None:
    alt = alternatives().configurable_fields(temperature=ConfigurableField(id="temp"))
    assert isinstance(alt, RunnableConfigurableAlternatives)
    assert isinstance(alt.default, RunnableConfigurableFields)
    assert alt.invoke("x", cfg(temp=1.5)) == "base@1.5:x"
    assert alt.invoke("x", cfg(temp=1.5, llm="big")) == "big@0.0:x"


# -- nesting and composition -----------------------------------------------------------


def test_a_configurable_step_is_configured_through_the_outer_call() -> None:
    chain = RunnablePassthrough() | alternatives() | RunnableLambda(str.upper)
    assert isinstance(chain, RunnableSequence)
    assert chain.invoke("x", cfg(llm="big")) == "BIG@0.0:X"
    assert run_async(chain.ainvoke("x", cfg(llm="big"))) == "BIG@0.0:X"
    assert "".join(chain.stream("x", cfg(llm="big"))) == "BIG@0.0:X"
    assert [s.id for s in chain.config_specs] == ["llm"]


def test_nested_dynamic_runnables_resolve_every_level() -> None:
    inner = temp_field()
    outer = inner.configurable_alternatives(ConfigurableField(id="llm"), big=FakeModel())
    runnable, _ = outer.prepare(cfg(temperature=0.8))
    assert isinstance(runnable, FakeModel)
    assert runnable.temperature == 0.8


def test_with_config_binds_configurable_values() -> None:
    bound = alternatives().with_config(configurable={"llm": "big"}, tags=["t"])
    assert isinstance(bound, RunnableConfigurableAlternatives)
    assert bound.config is not None
    assert bound.config["configurable"] == {"llm": "big"}
    assert bound.invoke("x") == "big@0.0:x"
    assert bound.invoke("x", cfg(llm="default")) == "base@0.0:x"  # the call wins


def test_schemas_follow_the_configured_runnable() -> None:
    alt = RunnablePassthrough().configurable_alternatives(
        ConfigurableField(id="step"), pick=RunnablePick(keys="a")
    )
    assert alt.get_input_schema().model_json_schema()["title"] == "RunnablePassthroughInput"
    picked = alt.get_input_schema(cfg(step="pick")).model_json_schema()["title"]
    assert picked == "RunnablePick<a>Input"
    assert alt.get_output_jsonschema(cfg(step="pick"))["title"] == "RunnablePick<a>Output"


def test_attributes_and_methods_come_from_the_default() -> None:
    model = temp_field()
    assert model.model == "small"
    assert model._answer("q") == "small@0.0:q"
    # a method given a config with configurable values runs on the configured runnable
    runs = model.batch_as_completed(["a"], config=cfg(temperature=0.4))
    assert list(runs) == [(0, "small@0.4:a")]
    with pytest.raises(AttributeError):
        _ = model.no_such_attribute


def test_sync_is_cheap_follows_the_wrapped_runnables() -> None:
    assert temp_field().sync_is_cheap
    alt = FakeModel().configurable_alternatives(
        ConfigurableField(id="x"), slow=RunnableLambda(lambda v: v)
    )
    assert not alt.sync_is_cheap


# -- the wire form ---------------------------------------------------------------------


def test_fields_wire_form_matches_langchain(fake_registered: IdTable) -> None:
    model = temp_field(name="Temperature")
    data = runwire.dumpd(model, dialect="langchain")
    assert data == {
        "lc": 1,
        "type": "constructor",
        "id": [*LC_NS, "RunnableConfigurableFields"],
        "kwargs": {
            "default": {
                "lc": 1,
                "type": "constructor",
                "id": FAKE_LC_ID,
                "kwargs": {"model": "small"},  # truthy values are written (LangChain)
                "name": "FakeModel",
            },
            "fields": {"temperature": ["temperature", "Temperature", None, None, False]},
        },
        "name": "RunnableConfigurableFields",
    }


def test_alternatives_wire_form_matches_langchain() -> None:
    alt = RunnablePassthrough().configurable_alternatives(
        ConfigurableField(id="which"), pick=RunnablePick(keys="a")
    )
    data = runwire.dumpd(alt, dialect="langchain")
    assert data["id"] == [*LC_NS, "RunnableConfigurableAlternatives"]
    assert data["name"] == "RunnableConfigurableAlternatives"
    kwargs = data["kwargs"]
    assert kwargs["which"] == ["which", None, None, None, False]
    assert kwargs["default_key"] == "default"  # truthy: LangChain writes it
    assert kwargs["prefix_keys"] is False  # required: always written
    assert kwargs["alternatives"]["pick"]["kwargs"] == {"keys": "a"}
    assert "config" not in kwargs
    bound = runwire.dumpd(alt.with_config(tags=["x"]))
    assert bound["kwargs"]["config"] == {
        "tags": ["x"],
        "metadata": {},
        "callbacks": None,
        "recursion_limit": 25,
        "configurable": {},
    }


def test_option_fields_are_written_as_lists() -> None:
    model = RunnablePick(keys="a").configurable_fields(
        keys=ConfigurableFieldMultiOption(
            id="keys", options={"a": "a", "ab": ["a", "b"]}, default=["a"]
        )
    )
    assert runwire.dumpd(model)["kwargs"]["fields"] == {
        "keys": ["keys", {"a": "a", "ab": ["a", "b"]}, ["a"], None, None, False]
    }


@pytest.mark.parametrize("dialect", ["runwire", "langchain"])
def test_round_trip_of_both_classes(dialect: Any, fake_registered: IdTable) -> None:
    objects = [
        temp_field(name="T", description="d"),
        single_option(),
        multi_option(["nl", "dot"]),
        prefixed(),
        alternatives(default_key="base").with_config(configurable={"llm": "big"}),
    ]
    for obj in objects:
        text = runwire.dumps(obj, dialect=dialect)
        back = runwire.loads(text, **LOAD_TEST_CLASSES)
        assert type(back) is type(obj)
        assert back == obj
        assert runwire.dumps(back, dialect=dialect) == text
    back = runwire.loads(runwire.dumps(prefixed()), **LOAD_TEST_CLASSES)
    assert back.invoke("x", cfg(llm="big", **{"llm==big/temperature": 0.9})) == "big@0.9:x"


def node(name: str, kwargs: dict[str, Any], ns: Sequence[str] = LC_NS) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": [*ns, name], "kwargs": kwargs, "name": name}


def test_loads_langchain_written_configurable_fields() -> None:
    text = json.dumps(
        node(
            "RunnableConfigurableFields",
            {
                "default": node("RunnablePick", {"keys": "a"}),
                "fields": {"keys": ["pick_key", "Key", "Which key", None, False]},
            },
        )
    )
    model = runwire.loads(text)
    assert isinstance(model, RunnableConfigurableFields)
    assert model.fields["keys"] == ConfigurableField(
        id="pick_key", name="Key", description="Which key"
    )
    assert model.invoke({"a": 1, "b": 2}) == 1
    assert model.invoke({"a": 1, "b": 2}, cfg(pick_key="b")) == 2


def test_loads_langchain_written_option_fields_and_model(fake_registered: IdTable) -> None:
    text = json.dumps(
        node(
            "RunnableConfigurableFields",
            {
                "default": node("FakeModel", {"temperature": 0.5}, FAKE_LC_ID[:-1]),
                "fields": {
                    "temperature": ["temperature", None, None, None, False],
                    "model": ["size", {"s": "small", "l": "large"}, "s", None, None, False],
                    "stop": ["stops", {"nl": "\n", "dot": "."}, ["dot"], None, None, False],
                },
            },
        )
    )
    model = runwire.loads(text, allowed_objects="all")
    assert model.invoke("x") == "small@0.5|.:x"
    assert model.invoke("x", cfg(size="l", temperature=0.1, stops=[])) == "large@0.1:x"


def test_loads_langchain_written_alternatives() -> None:
    text = json.dumps(
        node(
            "RunnableConfigurableAlternatives",
            {
                "default": node("RunnablePassthrough", {}),
                "which": ["which", None, None, None, False],
                "alternatives": {"pick": node("RunnablePick", {"keys": "a"})},
                "default_key": "default",
                "prefix_keys": False,
            },
        )
    )
    alt = runwire.loads(text)
    assert isinstance(alt, RunnableConfigurableAlternatives)
    assert alt.which == ConfigurableField(id="which")
    assert alt.invoke({"a": 1}) == {"a": 1}
    assert alt.invoke({"a": 1}, cfg(which="pick")) == 1


def test_loading_a_field_that_is_not_a_field_fails_with_its_path() -> None:
    text = json.dumps(
        node(
            "RunnableConfigurableFields",
            {"default": node("RunnablePick", {"keys": "a"}), "fields": {"nope": ["x"]}},
        )
    )
    with pytest.raises(FieldValidationError, match="'nope' is not a field of RunnablePick"):
        runwire.loads(text)


def test_loading_a_typed_annotation_is_refused_as_not_implemented() -> None:
    annotation = {"lc": 1, "type": "not_implemented", "id": ["builtins", "str"], "repr": "str"}
    text = json.dumps(
        node(
            "RunnableConfigurableFields",
            {
                "default": node("RunnablePick", {"keys": "a"}),
                "fields": {"keys": ["k", None, None, annotation, False]},
            },
        )
    )
    with pytest.raises(runwire.ManifestError, match="not_implemented"):
        runwire.loads(text)
    loaded = runwire.loads(text, ignore_unserializable_fields=True)
    assert loaded.fields["keys"] == ConfigurableField(id="k")
