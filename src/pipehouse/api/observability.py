"""Request ids, structured logs and Prometheus metrics.

A pure ASGI middleware (no per-request task or body copy, unlike `BaseHTTPMiddleware`) gives
every request an id (the client's `X-Request-ID`, or a new one), puts it in every log line
written while serving it, returns it in the response headers, and counts the request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

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


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (tests start many servers)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.plugin_calls = Counter(
            "pipehouse_plugin_calls",
            "Calls into plugin code",
            ["plugin", "stage"],
            registry=self.registry,
        )
        self.plugin_errors = Counter(
            "pipehouse_plugin_errors",
            "Plugin calls that failed",
            ["plugin", "stage"],
            registry=self.registry,
        )
        self.plugin_latency = Histogram(
            "pipehouse_plugin_latency_seconds",
            "Time spent in plugin calls",
            ["plugin", "stage"],
            registry=self.registry,
        )
        self.requests = Counter(
            "pipehouse_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "pipehouse_http_request_seconds",
            "Time to the response headers",
            ["route"],
            registry=self.registry,
        )

    def observe_plugin(self, plugin_id: str, stage: str, seconds: float, ok: bool) -> None:
        self.plugin_calls.labels(plugin_id, stage).inc()
        self.plugin_latency.labels(plugin_id, stage).observe(seconds)
        if not ok:
            self.plugin_errors.labels(plugin_id, stage).inc()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class ObservabilityMiddleware:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = given.decode("latin-1")[:128] if given else uuid.uuid4().hex
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        responded = False

        def count() -> None:
            label = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], label, str(status)).inc()
            self.metrics.request_latency.labels(label).observe(time.perf_counter() - started)

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
                count()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not responded:  # Starlette's outermost middleware answers this one with a 500
                count()
            raise
        finally:
            if access_log.isEnabledFor(logging.INFO):
                duration = round((time.perf_counter() - started) * 1000, 2)
                access_log.info(
                    "%s %s %s %.2fms",
                    scope["method"],
                    scope["path"],
                    status,
                    duration,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": duration,
                    },
                )
            request_id.reset(token)
