"""Request ids, structured logs and Prometheus metrics.

Every request gets an id (the client's `X-Request-ID`, or a new one), in every log line written
while serving it and in the response headers, is counted, and has its access-log line. The steps
are functions (`begin_request`, `id_header`, `count_request`, `end_request`) that both callers
use: the pure ASGI middleware below (no per-request task or body copy, unlike
`BaseHTTPMiddleware`) for every route, and the fast lane (`api/fastlane.py`) for its own.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from math import inf
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from starlette.types import Receive, Scope, Send

from pipehouse.runtime.ids import unique_hex

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
access_log = logging.getLogger("pipehouse.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", *, as_json: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request it makes at INFO: one line per upstream call, with its URL
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))


_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, inf)


class _Timing:
    """Counts and a latency histogram for one label set, as plain numbers."""

    __slots__ = ("buckets", "count", "errors", "total")

    def __init__(self) -> None:
        self.count = 0
        self.errors = 0
        self.total = 0.0
        self.buckets = [0] * len(_BOUNDS)

    def add(self, seconds: float, ok: bool = True) -> None:
        self.count += 1
        self.total += seconds
        self.buckets[bisect_left(_BOUNDS, seconds)] += 1
        if not ok:
            self.errors += 1

    def histogram(self) -> list[tuple[str, float]]:
        return [
            ("+Inf" if bound == inf else repr(bound), cumulative)
            for bound, cumulative in zip(_BOUNDS, accumulate(self.buckets), strict=True)
        ]


class Metrics:
    """The server's Prometheus metrics. Requests count into plain numbers, turned into metric
    families only when `/metrics` is scraped: `prometheus_client`'s own metric objects cost
    more per request than a plugin call (locks, label lookups). Each server has its own
    registry (tests start many servers in one process)."""

    def __init__(self) -> None:
        self._plugins: dict[tuple[str, str], _Timing] = {}
        self._requests: dict[tuple[str, str, int], int] = {}
        self._routes: dict[str, _Timing] = {}
        self._stalls: dict[str, int] = {}
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def observe_plugin(self, plugin_id: str, stage: str, seconds: float, ok: bool) -> None:
        timing = self._plugins.get((plugin_id, stage))
        if timing is None:
            timing = self._plugins[(plugin_id, stage)] = _Timing()
        timing.add(seconds, ok)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        timing = self._routes.get(route)
        if timing is None:
            timing = self._routes[route] = _Timing()
        timing.add(seconds)

    def observe_stall(self, plugin_id: str | None) -> None:
        """The event loop was blocked past the threshold while `plugin_id` ran ("": no plugin)."""
        key = plugin_id or ""
        self._stalls[key] = self._stalls.get(key, 0) + 1

    def collect(self) -> Iterator[Any]:
        labels = ["plugin", "stage"]
        calls = CounterMetricFamily(
            "pipehouse_plugin_calls", "Calls into plugin code", labels=labels
        )
        errors = CounterMetricFamily(
            "pipehouse_plugin_errors", "Plugin calls that failed", labels=labels
        )
        latency = HistogramMetricFamily(
            "pipehouse_plugin_latency_seconds", "Time spent in plugin calls", labels=labels
        )
        for (plugin_id, stage), timing in list(self._plugins.items()):
            calls.add_metric([plugin_id, stage], timing.count)
            errors.add_metric([plugin_id, stage], timing.errors)
            latency.add_metric([plugin_id, stage], timing.histogram(), timing.total)
        requests = CounterMetricFamily(
            "pipehouse_http_requests", "HTTP requests", labels=["method", "route", "status"]
        )
        for (method, route, status), count in list(self._requests.items()):
            requests.add_metric([method, route, str(status)], count)
        request_latency = HistogramMetricFamily(
            "pipehouse_http_request_seconds", "Time to the response headers", labels=["route"]
        )
        for route, timing in list(self._routes.items()):
            request_latency.add_metric([route], timing.histogram(), timing.total)
        stalls = CounterMetricFamily(
            "pipehouse_loop_stalls",
            "Times the event loop was blocked past the threshold, by the plugin that blocked it",
            labels=["plugin"],
        )
        for plugin_id, count in list(self._stalls.items()):
            stalls.add_metric([plugin_id], count)
        yield from (calls, errors, latency, requests, request_latency, stalls)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def request_id_header(scope: Scope) -> bytes | None:
    return next((v for k, v in scope["headers"] if k == b"x-request-id"), None)


def begin_request(scope: Scope, given: bytes | None) -> tuple[str, contextvars.Token[str]]:
    """The request's id (`given`: the client's `X-Request-ID`, else a new one), set for every
    log line written while it is served and kept in the scope's state."""
    rid = given.decode("latin-1")[:128] if given else unique_hex()
    scope.setdefault("state", {})["request_id"] = rid
    return rid, request_id.set(rid)


def count_request(metrics: Metrics, scope: Scope, status: int, started: float) -> None:
    """Count the request under its route's path (`scope["route"]`, set by the router or the
    fast lane; "unmatched" when no route took it) once its status is known."""
    label = getattr(scope.get("route"), "path", "unmatched")
    metrics.observe_request(scope["method"], label, status, time.perf_counter() - started)


def id_header(rid: str) -> tuple[bytes, bytes]:
    """The response header that gives the client its request id back."""
    return (b"x-request-id", rid.encode())


def end_request(scope: Scope, status: int, started: float, token: contextvars.Token[str]) -> None:
    """The access-log line (when asked for), then the request id is let go."""
    if access_log.isEnabledFor(logging.INFO):
        duration = round((time.perf_counter() - started) * 1000, 2)
        method, path = scope["method"], scope["path"]
        access_log.info(
            "%s %s %s %.2fms",
            method,
            path,
            status,
            duration,
            extra={"method": method, "path": path, "status": status, "duration_ms": duration},
        )
    request_id.reset(token)


class ObservabilityMiddleware:
    """Request ids, metrics and the access log for every route but the fast lane's (which calls
    the same functions from the response it built, without wrapping `send`)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid, token = begin_request(scope, request_id_header(scope))
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message.setdefault("headers", []).append(id_header(rid))
                count_request(self.metrics, scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not responded:  # the server answers this one with a 500
                count_request(self.metrics, scope, status, started)
            raise
        finally:
            end_request(scope, status, started, token)
