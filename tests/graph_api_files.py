"""Graph files and a runwire.yaml for the graph API tests (served by a real `runwire serve`)."""

from __future__ import annotations

from pathlib import Path

# write -> ask (AskHuman: an interrupt) -> publish; write and publish call a fake model,
# so the messages stream mode has tokens to send.
REVIEW = """\
_type: StateGraph
name: review
state:
  topic: {type: string}
  draft: {type: string}
  verdict: {type: string}
  final: {type: string}
input: [topic]
nodes:
  write:
    reads: {topic: topic}
    writes: draft
    run:
      _type: sequence
      steps:
        - {_type: PromptTemplate, template: "Draft about {topic}"}
        - {_type: FakeChatModel, chunk_size: 4}
        - {_type: StrOutputParser}
  ask:
    reads: draft
    writes: verdict
    run: {_type: AskHuman, question: "Publish this draft?"}
  publish:
    reads: {draft: draft, verdict: verdict}
    writes: final
    run:
      _type: sequence
      steps:
        - {_type: PromptTemplate, template: "{draft} ({verdict})"}
        - {_type: FakeChatModel}
        - {_type: StrOutputParser}
edges: [[START, write], [write, ask], [ask, publish], [publish, END]]
"""

# first (quick) -> slow (a model that takes SLOW_S seconds) -> done
SLOW_S = 3
SLOW = f"""\
_type: StateGraph
name: slow
state:
  question: {{type: string}}
  first: {{type: string}}
  answer: {{type: string}}
  done: {{type: string}}
input: [question]
nodes:
  first:
    reads: question
    writes: first
    run: {{_type: sequence, steps: [{{_type: FakeChatModel}}, {{_type: StrOutputParser}}]}}
  slow:
    reads: first
    writes: answer
    run:
      _type: sequence
      steps: [{{_type: FakeChatModel, sleep: {SLOW_S}}}, {{_type: StrOutputParser}}]
  done:
    reads: answer
    writes: done
    run: {{_type: sequence, steps: [{{_type: FakeChatModel}}, {{_type: StrOutputParser}}]}}
edges: [[START, first], [first, slow], [slow, done], [done, END]]
"""

# a tool-calling agent that keeps its conversation on a thread
AGENT = """\
_type: ReactAgent
model: {_type: FakeChatModel}
prompt: Use the tools.
tools:
  - _type: Tool
    name: get_weather
    description: Weather for a city.
    args_schema: {type: object, properties: {city: {type: string}}, required: [city]}
    runnable: {_type: RunnablePick, keys: city}
"""

CHAT = """\
_type: sequence
steps:
  - {_type: PromptTemplate, template: "{question}"}
  - {_type: FakeChatModel}
  - {_type: StrOutputParser}
"""


def write_project(folder: Path, checkpointer: str = "") -> Path:
    """The graph files, a chain and runwire.yaml in ``folder`` (``checkpointer`` is YAML
    for runwire.yaml's ``checkpointer:`` key, default none: SQLite)."""
    for name, text in (("review", REVIEW), ("slow", SLOW), ("agent", AGENT), ("chat", CHAT)):
        (folder / f"{name}.yaml").write_text(text)
    deployment = "pipelines:\n" + "".join(
        f"  {name}: {name}.yaml\n" for name in ("review", "slow", "agent", "chat")
    )
    if checkpointer:
        deployment += f"checkpointer:\n  {checkpointer}\n"
    (folder / "runwire.yaml").write_text(deployment)
    return folder / "runwire.yaml"
