"""runwire.graph engine behaviours beyond the contract suite: validation, runnables,
schemas, retries, async concurrency, persistence across processes, durability."""

import asyncio
import itertools
import operator
import subprocess
import sys
import textwrap
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel

from runwire.graph import (
    END,
    START,
    Command,
    RetryPolicy,
    Send,
    StateGraph,
    interrupt,
)
from runwire.graph.checkpoint import InMemorySaver
from runwire.runtime.lambdas import RunnableLambda


class State(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def _thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def _linear(*names: str, checkpointer: Any = None) -> Any:
    graph = StateGraph(State)
    for name in names:
        graph.add_node(name, lambda s, n=name: {"log": [n]})
    graph.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        graph.add_edge(a, b)
    return graph.compile(checkpointer=checkpointer)


# -- building --------------------------------------------------------------------------


def test_compile_names_the_unknown_node_of_a_bad_edge():
    graph = StateGraph(State)
    graph.add_node("a", lambda s: None)
    graph.add_edge(START, "a")
    graph.add_edge("a", "missing")
    with pytest.raises(ValueError, match="unknown node `missing`"):
        graph.compile()


def test_compile_refuses_a_graph_without_an_entry_point():
    graph = StateGraph(State)
    graph.add_node("a", lambda s: None)
    with pytest.raises(ValueError, match="entrypoint"):
        graph.compile()


def test_duplicate_and_reserved_node_names_are_refused():
    graph = StateGraph(State)
    graph.add_node("a", lambda s: None)
    with pytest.raises(ValueError, match="already present"):
        graph.add_node("a", lambda s: None)
    with pytest.raises(ValueError, match="reserved"):
        graph.add_node(END, lambda s: None)


def test_interrupt_names_must_be_nodes():
    graph = StateGraph(State)
    graph.add_node("a", lambda s: None)
    graph.add_edge(START, "a")
    with pytest.raises(ValueError, match="Interrupt node `b` not found"):
        graph.compile(interrupt_before=["b"])


def test_add_node_takes_its_name_from_the_function():
    def shout(state: State) -> dict[str, Any]:
        return {"log": ["!"]}

    graph = StateGraph(State).add_sequence([shout])
    graph.set_entry_point("shout")
    assert graph.compile().invoke({"x": 0}) == {"x": 0, "log": ["!"]}


def test_router_literal_annotation_is_its_path_map():
    from typing import Literal

    def route(state: State) -> Literal["b", "__end__"]:
        return "b" if state["x"] else END

    graph = StateGraph(State)
    graph.add_node("a", lambda s: {"log": ["a"]})
    graph.add_node("b", lambda s: {"log": ["b"]})
    graph.add_edge(START, "a")
    graph.add_conditional_edges("a", route)
    assert graph.compile().invoke({"x": 1})["log"] == ["a", "b"]
    assert graph.compile().invoke({"x": 0})["log"] == ["a"]


# -- nodes -----------------------------------------------------------------------------


def test_runnable_nodes_and_composition_with_other_runnables():
    double = RunnableLambda(lambda s: {"x": s["x"] * 2})
    graph = StateGraph(State)
    graph.add_node("double", double)
    graph.add_edge(START, "double")
    app = graph.compile()
    chain = RunnableLambda(lambda n: {"x": n}) | app | RunnableLambda(lambda s: s["x"])
    assert chain.invoke(21) == 42
    assert app.batch([{"x": 1}, {"x": 2}]) == [{"x": 2, "log": []}, {"x": 4, "log": []}]


def test_json_schemas_follow_the_input_and_output_schemas():
    class In(TypedDict):
        question: str

    class Out(TypedDict):
        answer: str

    class Full(In, Out):
        scratch: int

    graph = StateGraph(Full, input_schema=In, output_schema=Out)
    graph.add_node("answer", lambda s: {"answer": s["question"].upper(), "scratch": 1})
    graph.add_edge(START, "answer")
    app = graph.compile()
    assert list(app.get_input_jsonschema()["properties"]) == ["question"]
    assert list(app.get_output_jsonschema()["properties"]) == ["answer"]
    assert app.invoke({"question": "hi"}) == {"answer": "HI"}


def test_pydantic_state_reaches_nodes_as_a_model_and_leaves_as_a_dict():
    class Model(BaseModel):
        x: int = 0
        log: Annotated[list, operator.add] = []

    seen = []

    def node(state: Model) -> dict[str, Any]:
        seen.append(type(state))
        return {"x": state.x + 1, "log": ["n"]}

    graph = StateGraph(Model)
    graph.add_node("n", node)
    graph.add_edge(START, "n")
    assert graph.compile().invoke({"x": 1}) == {"x": 2, "log": ["n"]}
    assert seen == [Model]


def test_retry_policy_retries_a_failing_node():
    calls = []

    def flaky(state):
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("blip")
        return {"log": ["ok"]}

    graph = StateGraph(State)
    graph.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0, jitter=False))
    graph.add_edge(START, "flaky")
    assert graph.compile().invoke({"x": 0})["log"] == ["ok"]
    assert len(calls) == 3


def test_async_nodes_of_one_step_run_concurrently():
    started: list[str] = []
    gate = asyncio.Event()

    async def waiter(state):
        started.append("waiter")
        await gate.wait()
        return {"log": ["waiter"]}

    async def opener(state):
        started.append("opener")
        gate.set()
        return {"log": ["opener"]}

    graph = StateGraph(State)
    graph.add_node("waiter", waiter)
    graph.add_node("opener", opener)
    graph.add_edge(START, "waiter")
    graph.add_edge(START, "opener")
    out = asyncio.run(asyncio.wait_for(graph.compile().ainvoke({"x": 0}), 10))
    # writes are applied in node-name order whatever order the nodes finished in
    assert out["log"] == ["opener", "waiter"]


def test_sync_invoke_of_an_async_node_is_a_clear_error():
    async def node(state):
        return {}

    graph = StateGraph(State)
    graph.add_node("node", node)
    graph.add_edge(START, "node")
    with pytest.raises(TypeError, match="ainvoke"):
        graph.compile().invoke({"x": 0})


def test_send_fan_out_runs_one_task_per_packet():
    graph = StateGraph(State)
    graph.add_node("square", lambda n: {"log": [n * n]})
    graph.add_conditional_edges(START, lambda s: [Send("square", i) for i in range(s["x"])])
    assert graph.compile().invoke({"x": 4})["log"] == [0, 1, 4, 9]


def test_command_goto_from_a_node_without_edges():
    graph = StateGraph(State)
    graph.add_node("a", lambda s: Command(update={"log": ["a"]}, goto="b"), destinations=("b",))
    graph.add_node("b", lambda s: {"log": ["b"]})
    graph.add_edge(START, "a")
    assert graph.compile().invoke({"x": 0})["log"] == ["a", "b"]


# -- checkpoints -----------------------------------------------------------------------


def test_durability_exit_saves_one_checkpoint_even_when_interrupted():
    saver = InMemorySaver()
    graph = StateGraph(State)
    graph.add_node("ask", lambda s: {"log": [interrupt("?")]})
    graph.add_node("after", lambda s: {"log": ["after"]})
    graph.add_edge(START, "ask")
    graph.add_edge("ask", "after")
    app = graph.compile(checkpointer=saver)
    config = _thread("exit")
    app.invoke({"x": 0}, config, durability="exit")
    assert len(list(app.get_state_history(config))) == 1
    assert app.get_state(config).next == ("ask",)
    assert app.invoke(Command(resume="yes"), config, durability="exit")["log"] == ["yes", "after"]


def test_update_state_as_a_node_follows_that_nodes_edges():
    saver = InMemorySaver()
    app = _linear("a", "b", "c", checkpointer=saver)
    config = _thread("as-node")
    app.invoke({"x": 0}, config, interrupt_before=["b"])
    app.update_state(config, {"log": ["manual"]}, as_node="b")
    assert app.get_state(config).next == ("c",)
    assert app.invoke(None, config)["log"] == ["a", "manual", "c"]


def test_time_travel_from_an_earlier_checkpoint_forks_the_thread():
    saver = InMemorySaver()
    app = _linear("a", "b", checkpointer=saver)
    config = _thread("travel")
    app.invoke({"x": 0}, config)
    before_b = next(s for s in app.get_state_history(config) if s.next == ("b",))
    assert app.invoke(None, before_b.config)["log"] == ["a", "b"]
    sources = [s.metadata["source"] for s in app.get_state_history(config)]
    assert sources == ["loop", "fork", "loop", "loop", "loop", "input"]


def test_sqlite_thread_resumes_in_another_process(tmp_path):
    db = tmp_path / "graph.sqlite"
    script = textwrap.dedent(
        f"""
        import operator, sys
        from typing import Annotated, TypedDict
        from runwire.graph import START, Command, StateGraph, interrupt
        from runwire.graph.checkpoint import SqliteSaver

        class State(TypedDict):
            x: int
            log: Annotated[list, operator.add]

        graph = StateGraph(State)
        graph.add_node("ask", lambda s: {{"log": [interrupt("name?")]}})
        graph.add_node("greet", lambda s: {{"log": ["hi " + s["log"][-1]]}})
        graph.add_edge(START, "ask")
        graph.add_edge("ask", "greet")
        config = {{"configurable": {{"thread_id": "t"}}}}
        with SqliteSaver.from_conn_string({str(db)!r}) as saver:
            app = graph.compile(checkpointer=saver)
            if sys.argv[1] == "start":
                out = app.invoke({{"x": 0}}, config)
                print(out["__interrupt__"][0].value)
            else:
                print(app.invoke(Command(resume="ada"), config)["log"])
        """
    )
    run = [sys.executable, "-c", script]
    first = subprocess.run([*run, "start"], capture_output=True, text=True, timeout=60)
    assert first.stdout.strip() == "name?", first.stderr
    second = subprocess.run([*run, "resume"], capture_output=True, text=True, timeout=60)
    assert second.stdout.strip() == "['ada', 'hi ada']", second.stderr
