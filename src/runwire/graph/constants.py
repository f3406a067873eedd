"""Names the graph runtime reserves: the entry and exit nodes and its internal channels."""

from __future__ import annotations

__all__ = ["END", "INTERRUPT", "START", "TAG_HIDDEN", "TAG_NOSTREAM"]

START = "__start__"
"""The first node: writes the graph's input into the state."""
END = "__end__"
"""The last node: an edge to it ends that path."""
INTERRUPT = "__interrupt__"
"""The key under which interrupts appear in outputs."""
TAG_NOSTREAM = "nostream"
"""A chat model run with this tag is not streamed in ``messages`` mode."""
TAG_HIDDEN = "langsmith:hidden"
"""A node with this tag is left out of streams."""

# internal channel names (also the keys stored in checkpoints)
TASKS = "__pregel_tasks"
RESUME = "__resume__"
ERROR = "__error__"
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
BRANCH_PREFIX = "branch:to:"
JOIN_PREFIX = "join:"
PULL = "__pregel_pull"
PUSH = "__pregel_push"
