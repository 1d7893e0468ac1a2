"""Prometheus metrics of `mergeml serve` (prometheus-client).

One process: the metrics live in a registry of their own. Several workers: each writes
its samples under ``PROMETHEUS_MULTIPROC_DIR`` (made by the parent before the workers
start, removed at exit) and `/metrics` adds them up across workers.
"""

from __future__ import annotations

import os
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOG_EVENTS = ("written", "dropped", "failed")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The server's counters, histogram and gauge."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # multiprocess: metrics go to the files; the default registry is never read
        self.registry = CollectorRegistry(auto_describe=True)
        reg: Any = None if self.multiprocess else self.registry
        self.requests = Counter(
            "mergeml_requests_total",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "mergeml_request_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.errors = Counter(
            "mergeml_errors_total",
            "Requests answered with an error, by kind (body, json, schema, model, ...).",
            ["kind"],
            registry=reg,
        )
        self.model_info = Gauge(
            "mergeml_model_info",
            "The model served (1), labelled with its identity.",
            ["name", "version", "stage", "md5"],
            registry=reg,
            multiprocess_mode="max",
        )
        self.rows = Counter("mergeml_rows_scored_total", "Rows scored.", registry=reg)
        self.batch_rows = Histogram(
            "mergeml_batch_rows",
            "Rows per model call (requests queued on a busy worker are scored together).",
            buckets=BATCH_BUCKETS,
            registry=reg,
        )
        self.log_rows = Counter(
            "mergeml_prediction_log_rows_total",
            "Prediction-log rows written or dropped, and failed flushes (event=failed).",
            ["event"],
            registry=reg,
        )

    def model(self, identity: dict[str, str]) -> None:
        """Set the model info gauge."""
        keys = ("name", "version", "stage", "md5")
        self.model_info.labels(**{k: identity.get(k, "") for k in keys}).set(1)

    def log_event(self, event: str, rows: int) -> None:
        """The prediction log's ``on_event`` callback."""
        if event in LOG_EVENTS:
            self.log_rows.labels(event=event).inc(rows)

    def render(self) -> bytes:
        """The text exposition of every metric (summed over workers in multiprocess mode)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if not self.multiprocess:
            return bytes(generate_latest(self.registry))
        from prometheus_client.multiprocess import MultiProcessCollector

        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return bytes(generate_latest(merged))
