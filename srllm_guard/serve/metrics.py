"""Prometheus metrics of one guard service (``GET /metrics``), in a registry of its own per app."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Metrics"]

_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass
class Metrics:
    """Counters and latency histograms; ``render()`` is the text ``/metrics`` serves."""

    registry: Any = field(init=False)
    requests: Any = field(init=False)
    """Requests by endpoint and HTTP status."""
    actions: Any = field(init=False)
    """Guarded outputs by action (pass, rewrite, fallback) and endpoint."""
    upstream_errors: Any = field(init=False)
    """Upstream failures by kind: connect, timeout, status (4xx/5xx relayed), stream (broken mid-stream)."""
    latency: Any = field(init=False)
    """Request wall time by endpoint (for streams: until the last chunk is sent)."""
    guard_latency: Any = field(init=False)
    """Time the guard itself spent on one output (the audit record's ``latency_ms``)."""

    def __post_init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("srllm_guard_requests", "Requests served", ["endpoint", "status"],
                                registry=self.registry)
        self.actions = Counter("srllm_guard_actions", "Guarded outputs by action", ["endpoint", "action"],
                               registry=self.registry)
        self.upstream_errors = Counter("srllm_guard_upstream_errors", "Upstream failures", ["kind"],
                                       registry=self.registry)
        self.latency = Histogram("srllm_guard_request_seconds", "Request latency", ["endpoint"], buckets=_BUCKETS,
                                 registry=self.registry)
        self.guard_latency = Histogram("srllm_guard_check_seconds", "Time the guard spent on one output",
                                       buckets=_BUCKETS, registry=self.registry)

    def record(self, endpoint: str, action: str, latency_ms: float) -> None:
        self.actions.labels(endpoint, action).inc()
        self.guard_latency.observe(latency_ms / 1000)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
