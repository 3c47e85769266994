"""What the running service tells its operators: Prometheus metrics and structured logs.

Metrics are kept in process (one registry per process, as Prometheus expects to scrape each
process). Logs carry the operation, its duration, cost and status and a hashed account id;
never passwords, tokens, variables or ballot choices.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from access.sealing import keys_for, pseudonym

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_log = logging.getLogger("parvis.operations")


class Metrics:
    """Counters, gauges and one latency histogram, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.gauges: dict[str, float] = defaultdict(float)
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        self.counters[(name, tuple(sorted(labels.items())))] += amount

    def gauge(self, name: str, delta: float) -> None:
        self.gauges[name] += delta

    def observe(self, operation: str, seconds: float) -> None:
        buckets = self.latency.setdefault(operation, [0] * len(LATENCY_BUCKETS))
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                buckets[i] += 1
        self.latency_sum[operation] += seconds
        self.latency_count[operation] += 1

    def render(self, extra_gauges: dict[str, float] | None = None) -> str:
        lines: list[str] = []
        described: set[str] = set()
        for (name, labels), value in sorted(self.counters.items()):
            if name not in described:
                lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} counter"]
                described.add(name)
            lines.append(f"{name}{_labels(labels)} {value:g}")
        for name, value in sorted({**self.gauges, **(extra_gauges or {})}.items()):
            lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        name = "parvis_graphql_duration_seconds"
        if self.latency:
            lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} histogram"]
        for operation, buckets in sorted(self.latency.items()):
            label = _escape(operation)
            for bound, count in zip(LATENCY_BUCKETS, buckets, strict=True):
                lines.append(f'{name}_bucket{{operation="{label}",le="{bound:g}"}} {count}')
            lines.append(f'{name}_bucket{{operation="{label}",le="+Inf"}} {self.latency_count[operation]}')
            lines.append(f'{name}_sum{{operation="{label}"}} {self.latency_sum[operation]:.6f}')
            lines.append(f'{name}_count{{operation="{label}"}} {self.latency_count[operation]}')
        return "\n".join(lines) + "\n"


HELP = {
    "parvis_graphql_requests_total": "GraphQL operations by operation name and status (ok or error).",
    "parvis_graphql_errors_total": "GraphQL errors by code.",
    "parvis_graphql_duration_seconds": "Time to execute a GraphQL operation, by operation name.",
    "parvis_http_rejected_total": "HTTP requests refused before GraphQL, by reason.",
    "parvis_rate_limited_total": "Requests and mutations refused by a rate limit, by bucket.",
    "parvis_websockets_open": "Websocket connections open on this process.",
    "parvis_subscriptions_active": "GraphQL subscriptions streaming on this process.",
    "parvis_events_published_total": "Events published by this process after commit.",
    "parvis_events_delivered_total": "Event messages sent to subscribers by this process.",
}


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def account_hash(account_id: int | None, secret: str) -> str | None:
    """A stable pseudonym for logs: enough to follow one account, not to name it. Keyed
    (HMAC with the deployment's secret): a plain hash of an id is reversed by hashing every id."""
    if account_id is None:
        return None
    return pseudonym(keys_for(secret), "account", account_id)


class OperationMetrics(SchemaExtension):
    """Counts, times and logs every operation, with its cost and the codes of its errors;
    counts the subscriptions streaming and the messages they deliver."""

    streaming = False

    def on_validate(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        metrics = getattr(ctx.context, "metrics", None)
        if metrics is not None and not ctx.pre_execution_errors and ctx.graphql_document is not None:
            try:
                kind = ctx.operation_type.value
            except RuntimeError:
                return
            if kind == "subscription":
                self.streaming = True
                metrics.gauge("parvis_subscriptions_active", 1)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        metrics = getattr(self.execution_context.context, "metrics", None)
        if metrics is not None:
            metrics.inc("parvis_events_delivered_total")
        yield

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.streaming:
                self.streaming = False
                gauges: Metrics | None = getattr(self.execution_context.context, "metrics", None)
                if gauges is not None:
                    gauges.gauge("parvis_subscriptions_active", -1)
        ctx = self.execution_context
        context = ctx.context
        metrics: Metrics | None = getattr(context, "metrics", None)
        if metrics is None:
            return
        seconds = time.perf_counter() - started
        name = ctx.operation_name or "anonymous"
        result = ctx.result
        errors = list(getattr(result, "errors", None) or ctx.pre_execution_errors or [])
        codes = [str((e.extensions or {}).get("code", "UNKNOWN")) for e in errors]
        status = "error" if errors else "ok"
        metrics.inc("parvis_graphql_requests_total", operation=name, status=status)
        for code in codes:
            metrics.inc("parvis_graphql_errors_total", code=code)
        metrics.observe(name, seconds)
        account = getattr(context, "account", None)
        _log.info(
            "graphql operation",
            extra={"fields": {
                "operation": name,
                "type": getattr(getattr(ctx, "operation_type", None), "value", None) if ctx.graphql_document else None,
                "duration_ms": round(seconds * 1000, 2),
                "cost": getattr(context, "query_cost", None),
                "status": status,
                "error_codes": codes,
                "account": account_hash(account.id, context.settings.secret) if account is not None else None,
            }},
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line (production logs)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = getattr(record, "fields", None)
        return f"{base} {json.dumps(fields, default=str)}" if fields else base


def configure_logging(production: bool) -> None:
    """JSON lines in production, readable lines in development. The SQL debug logger stays
    off: with values, its lines could put a voter next to a ballot (secret ballot)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if production else TextFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("parvis")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    logging.getLogger("tortoise.db_client").setLevel(logging.WARNING)
