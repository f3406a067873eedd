"""Prometheus metrics of one server: requests, latency and errors per pipeline and route.

Each app owns a registry (several apps can live in one process, as in tests). With
several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to a shared empty folder: every
worker then writes there and ``/metrics`` sums them (prometheus_client's multiprocess
mode).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The counters and histograms one server exports at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # In multiprocess mode values go to files whatever the registry; only the
        # exposition differs.
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        registry = self.registry
        self.requests = Counter(
            "runwire_requests",
            "HTTP requests answered, by pipeline, route and status code.",
            ("pipeline", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "runwire_request_duration_seconds",
            "Time from request to the last byte of the response.",
            ("pipeline", "route"),
            buckets=_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "runwire_errors",
            "Failed requests and streams, by pipeline and kind (validation, timeout, "
            "provider error code, internal).",
            ("pipeline", "kind"),
            registry=registry,
        )
        self.in_flight = Gauge(
            "runwire_requests_in_flight",
            "Requests being handled now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, pipeline: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""
        key = (pipeline, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(pipeline, route, str(status)),
                self.latency.labels(pipeline, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def error(self, pipeline: str, kind: str) -> None:
        """Count one failure of ``kind`` (``validation``, ``timeout``, a provider code...)."""
        self.errors.labels(pipeline, kind).inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
