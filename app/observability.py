"""What the running service tells its operators: Prometheus metrics and structured logs.

Metrics are prometheus-client's: one registry per app, or, when the server runs several
workers (`serve --workers N`), prometheus-client's multiprocess mode, in which every worker
writes its values to files in one directory and any worker's /metrics reads them all, so
one scrape shows the whole server. Label values are bounded: an operation name is a label
only if it is a GraphQL name of at most 64 characters and one of the first 100 a process
saw; every other value of any label becomes "other" (clients choose operation names: 6,000
names made /metrics 12 MB). Logs carry the operation, its duration, cost and status and a
pseudonymous account id; never passwords, tokens, variables or ballot choices.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson
import prometheus_client
import uvicorn.config
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from strawberry.extensions import SchemaExtension

from access.sealing import keys_for, pseudonym

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# How many values a label takes in one process before the rest count as OTHER.
MAX_LABEL_VALUES = 100
OTHER = "other"
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_log = logging.getLogger("parvis.operations")

# Counters carry no `_created` series: half the lines of /metrics, of no use to Parvis.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

HELP = {
    "parvis_graphql_requests_total": "GraphQL operations by operation name and status (ok or error).",
    "parvis_graphql_errors_total": "GraphQL errors by code.",
    "parvis_graphql_duration_seconds": "Time to execute a GraphQL operation, by operation name.",
    "parvis_http_rejected_total": "HTTP requests refused before GraphQL, by reason.",
    "parvis_rate_limited_total": "Requests and mutations refused by a rate limit, by bucket.",
    "parvis_websockets_open": "Websocket connections open on this server.",
    "parvis_gc_frozen_objects": "Objects a serving process's startup left out of the cyclic garbage collector's "
                                "watch (gc.freeze, docs/adr/0025).",
    "parvis_subscriptions_active": "GraphQL subscriptions streaming on this server.",
    "parvis_events_published_total": "Events published by this server after commit.",
    "parvis_events_delivered_total": "Event messages sent to subscribers by this server.",
}


# Metrics shown from the start (at 0), with their labels; others appear when first counted.
COUNTERS: dict[str, tuple[str, ...]] = {
    "parvis_graphql_requests_total": ("operation", "status"),
    "parvis_graphql_errors_total": ("code",),
    "parvis_http_rejected_total": ("reason",),
    "parvis_rate_limited_total": ("bucket",),
    "parvis_events_published_total": (),
    "parvis_events_delivered_total": (),
}
GAUGES = ("parvis_websockets_open", "parvis_subscriptions_active", "parvis_gc_frozen_objects")


class Metrics:
    """Counters, gauges and the operation latency histogram (prometheus-client).

    `multiprocess_dir` is prometheus-client's PROMETHEUS_MULTIPROC_DIR when the server runs
    several workers: then /metrics renders every worker's values from that directory."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        self._seen: dict[tuple[str, str], set[str]] = {}
        self.latency = Histogram(
            "parvis_graphql_duration_seconds", HELP["parvis_graphql_duration_seconds"], ["operation"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )
        for name, labels in COUNTERS.items():
            self._counter(name, labels)
        for name in GAUGES:
            self.gauge(name, 0)

    def _counter(self, name: str, labels: tuple[str, ...]) -> Counter:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Counter(name, HELP.get(name, name), labels, registry=self.registry)
        return counter

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        counter = self._counter(name, tuple(sorted(labels)))
        if labels:
            counter.labels(**self._bounded(name, labels)).inc(amount)
        else:
            counter.inc(amount)

    def gauge(self, name: str, delta: float) -> None:
        gauge = self._gauges.get(name)
        if gauge is None:
            # livesum: the sum over the workers alive (a worker's files go when it stops).
            gauge = self._gauges[name] = Gauge(
                name, HELP.get(name, name), registry=self.registry, multiprocess_mode="livesum",
            )
        gauge.inc(delta)

    def observe(self, operation: str, seconds: float) -> None:
        self.latency.labels(**self._bounded("parvis_graphql_duration_seconds", {"operation": operation})).observe(
            seconds
        )

    def _bounded(self, name: str, labels: dict[str, str]) -> dict[str, str]:
        """The label values to count under: a value past the first MAX_LABEL_VALUES of its
        label (or an operation name that is no GraphQL name) becomes OTHER."""
        bounded: dict[str, str] = {}
        for key, value in labels.items():
            if key == "operation" and value != "anonymous" and not _OPERATION_NAME.fullmatch(value):
                value = OTHER
            # Operation names are the same set in every metric that has them.
            seen = self._seen.setdefault((key if key == "operation" else name, key), set())
            if value not in seen:
                if len(seen) >= MAX_LABEL_VALUES:
                    value = OTHER
                else:
                    seen.add(value)
            bounded[key] = value
        return bounded

    def render(self) -> bytes:
        """The Prometheus text format: this process's metrics, or every worker's."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self, pid: int) -> None:
        """This worker stops: its live gauges stop counting (multiprocess mode)."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(pid, self.multiprocess_dir)  # type: ignore[no-untyped-call]


def account_hash(account_id: int | None, secret: str) -> str | None:
    """A stable pseudonym for logs: enough to follow one account, not to name it. Keyed
    (HMAC with a key derived from `secret`: PARVIS_LOG_KEY, else the deployment's secret): a
    plain hash of an id is reversed by hashing every id."""
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
                # A GraphQL name or OTHER: an operationName is client text of any length.
                "operation": name if name == "anonymous" or _OPERATION_NAME.fullmatch(name) else OTHER,
                "type": getattr(getattr(ctx, "operation_type", None), "value", None) if ctx.graphql_document else None,
                "duration_ms": round(seconds * 1000, 2),
                "cost": getattr(context, "query_cost", None),
                "status": status,
                "error_codes": codes,
                "account": account_hash(account.id, context.settings.log_key or context.settings.secret)
                if account is not None else None,
            }},
        )


class JsonFormatter(logging.Formatter):
    """One JSON object per line (production logs). A traceback, when a record carries one (an
    unexpected error), is a field of that line, never lines of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _local_time(int(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # orjson, and the time formatted once a second: every operation writes a line (the line
        # was about 2 % of a vote's server CPU under load, bench/votes.py --profile).
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


@functools.lru_cache(maxsize=4)
def _local_time(second: int) -> str:
    """A log line's time, to the second, in the server's zone (as logging.Formatter.formatTime)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(second))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = getattr(record, "fields", None)
        return f"{base} {json.dumps(fields, default=str)}" if fields else base


class WithoutQueryStrings(logging.Filter):
    """uvicorn's request lines with the path only: a GET /graphql carries its variables (a
    password, a token) in the query string, and a log line must never hold them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        return True


def _path_only(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.split("?", 1)[0]
    return arg


def configure_logging(production: bool) -> None:
    """JSON lines in production, readable lines in development. The SQL debug logger stays
    off: with values, its lines could put a voter next to a ballot (secret ballot). In
    production every other library's records (asyncio, Strawberry's websocket tasks) are
    JSON lines too, through the root logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if production else TextFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("parvis")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    logging.getLogger("tortoise.db_client").setLevel(logging.WARNING)
    if production:
        fallback = logging.StreamHandler(sys.stderr)
        fallback.setFormatter(JsonFormatter())
        logging.getLogger().handlers[:] = [fallback]


def uvicorn_log_config(production: bool) -> dict[str, Any]:
    """uvicorn's logging (its `log_config`): request lines without query strings, and JSON
    lines on stderr in production, like the application's own."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"path_only": {"()": "app.observability.WithoutQueryStrings"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["path_only"]
    if production:
        config["formatters"] = {"json": {"()": "app.observability.JsonFormatter"}}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
            handler["stream"] = "ext://sys.stderr"
    return config
