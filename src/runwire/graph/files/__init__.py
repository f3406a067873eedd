"""Graphs as files: the ``StateGraph`` component and the parts of its format."""

from runwire.graph.files.component import StateGraph
from runwire.graph.files.nodes import NodeFile
from runwire.graph.files.routes import Route, SendSpec
from runwire.graph.files.state import REDUCERS, ChannelSpec

__all__ = ["REDUCERS", "ChannelSpec", "NodeFile", "Route", "SendSpec", "StateGraph"]
