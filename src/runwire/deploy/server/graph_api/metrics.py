"""Prometheus metrics of graph runs, in the server's registry (see
:mod:`runwire.deploy.server.metrics`): runs by graph and outcome, steps, interrupts,
durations and runs in progress. Labels are graph names (the deployment's) and a fixed
set of outcomes: a client cannot grow them.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

__all__ = ["OUTCOMES", "GraphMetrics"]

OUTCOMES = ("success", "interrupted", "error", "timeout", "cancelled")
"""How a run can end."""

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class GraphMetrics:
    """The graph counters of one server."""

    def __init__(self, registry: Any) -> None:
        self.runs = Counter(
            "runwire_graph_runs",
            "Graph runs finished, by graph and outcome (success, interrupted, error, timeout, "
            "cancelled).",
            ("graph", "outcome"),
            registry=registry,
        )
        self.steps = Counter(
            "runwire_graph_steps",
            "Graph node runs (tasks) completed, by graph.",
            ("graph",),
            registry=registry,
        )
        self.interrupts = Counter(
            "runwire_graph_interrupts",
            "Runs that stopped at an interrupt (interrupt() or interrupt_before/after), by graph.",
            ("graph",),
            registry=registry,
        )
        self.duration = Histogram(
            "runwire_graph_run_duration_seconds",
            "Time from a graph run's start to its end, by graph.",
            ("graph",),
            buckets=_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "runwire_graph_runs_in_progress",
            "Graph runs running now (background runs included).",
            registry=registry,
            multiprocess_mode="livesum",
        )

    def finished(
        self, graph: str, outcome: str, seconds: float, steps: int, interrupted: bool
    ) -> None:
        """Count one finished run."""
        self.runs.labels(graph, outcome).inc()
        self.duration.labels(graph).observe(seconds)
        if steps:
            self.steps.labels(graph).inc(steps)
        if interrupted:
            self.interrupts.labels(graph).inc()
