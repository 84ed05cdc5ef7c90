"""Server settings: command-line flags over `PIPEHOUSE_*` environment variables over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ByteSize, TypeAdapter, ValidationError


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return None if raw.lower() in ("0", "none", "off") else float(raw)


def _env_list(name: str) -> list[str]:
    """A semicolon-separated variable, as Open WebUI's `OPENAI_API_BASE_URLS`; empty items stay,
    so that lists paired by position (URLs and keys) stay paired."""
    raw = os.environ.get(name, "")
    return [item.strip() for item in raw.split(";")] if raw.strip() else []


def _env_size(name: str, default: int | None) -> int | None:
    """A size in bytes: `33554432`, `32MiB`, `32MB` (decimal), `512k` (pydantic's `ByteSize`
    units); `0`, `none` or `off` for no limit."""
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    if raw.lower() in ("0", "none", "off"):
        return None
    try:
        return int(TypeAdapter(ByteSize).validate_python(raw))
    except ValidationError:
        raise ValueError(f"{name}={raw!r} is not a size, like 33554432, 32MiB or 32MB") from None


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in ("1", "true", "yes", "on")


DEFAULT_MAX_BODY = 32 * 1024 * 1024  # a long conversation with images inlined fits
DEFAULT_WORKER_MEMORY = 2 * 1024**3  # a plugin with a small model or a big dataframe fits


@dataclass
class Settings:
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("PIPEHOUSE_DATA_DIR", ".pipehouse"))
    )
    database_url: str | None = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_DATABASE_URL")
    )
    host: str = "127.0.0.1"
    port: int = 8080
    plugin_dirs: list[Path] = field(default_factory=list)
    no_auth: bool = False
    admin_key: str | None = field(default_factory=lambda: os.environ.get("PIPEHOUSE_ADMIN_KEY"))
    admin_email: str = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_ADMIN_EMAIL", "admin@localhost")
    )
    call_timeout: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_CALL_TIMEOUT", 300.0)
    )
    idle_timeout: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_IDLE_TIMEOUT", 300.0)
    )
    # Seconds the event loop may be blocked before the plugin blocking it is named (runtime/
    # loop_lag.py); 0 or off: not watched.
    loop_lag_threshold: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_LOOP_LAG_THRESHOLD", 1.0)
    )
    manifold_ttl: float = field(
        default_factory=lambda: _env_float("PIPEHOUSE_MODELS_TTL", 60.0) or 0.0
    )
    watch: bool = field(default_factory=lambda: _env_bool("PIPEHOUSE_WATCH", True))
    log_json: bool = field(default_factory=lambda: _env_bool("PIPEHOUSE_LOG_JSON", False))
    # Send plugins' events in-band in every stream (otherwise only when a client asks).
    inline_events: bool = field(default_factory=lambda: _env_bool("PIPEHOUSE_INLINE_EVENTS", False))
    auth_cache_ttl: float = 10.0
    # Upstream model servers from `serve --upstream` or PIPEHOUSE_UPSTREAMS; each one's key is at
    # the same position in PIPEHOUSE_UPSTREAM_KEYS (never a flag: flags show in `ps`).
    upstreams: list[str] = field(default_factory=lambda: _env_list("PIPEHOUSE_UPSTREAMS"))
    upstream_keys: list[str] = field(
        default_factory=lambda: _env_list("PIPEHOUSE_UPSTREAM_KEYS"), repr=False
    )
    # Longest wait for an upstream's next bytes (its answer, or the next chunk of a stream).
    upstream_timeout: float = field(
        default_factory=lambda: _env_float("PIPEHOUSE_UPSTREAM_TIMEOUT", 300.0) or 300.0
    )
    # How long an `__event_call__` waits for a client's answer unless the call says (0: forever).
    event_call_timeout: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_EVENT_CALL_TIMEOUT", 300.0)
    )
    # Model round trips a chat with tools may take before it must answer (Open WebUI: 256).
    max_tool_rounds: int = field(
        default_factory=lambda: int(os.environ.get("PIPEHOUSE_MAX_TOOL_ROUNDS", "") or 16)
    )
    # Largest upload to /api/v1/files, in MB (0, "none" or "off": no limit).
    max_upload_mb: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_MAX_UPLOAD_MB", 25.0)
    )
    # Largest request body, in bytes, of every route but file uploads (None: no limit). A body
    # is held in memory while it is read: this bounds what one request takes (413 past it).
    max_body: int | None = field(
        default_factory=lambda: _env_size("PIPEHOUSE_MAX_BODY", DEFAULT_MAX_BODY)
    )
    # Uploads go to this S3-compatible bucket when set (else to DATA_DIR/uploads). Credentials
    # are boto3's: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role.
    s3_bucket: str | None = field(default_factory=lambda: os.environ.get("PIPEHOUSE_S3_BUCKET"))
    # For MinIO and other S3-compatible servers (unset: AWS).
    s3_endpoint_url: str | None = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_S3_ENDPOINT_URL")
    )
    s3_region: str | None = field(default_factory=lambda: os.environ.get("PIPEHOUSE_S3_REGION"))
    # Put before every object key ("pipehouse/"), to share a bucket.
    s3_prefix: str = field(default_factory=lambda: os.environ.get("PIPEHOUSE_S3_PREFIX", ""))
    # Redis shared by replicas of one deployment: events, event calls and change notices
    # between them (docs/deployment.md). Unset: one server, or replicas that poll the database.
    redis_url: str | None = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_REDIS_URL") or None, repr=False
    )
    # Put before every Redis key and channel, to share a Redis between deployments.
    redis_prefix: str = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_REDIS_PREFIX", "pipehouse")
    )
    # Worker processes (isolated mode, docs/isolation.md "Containment"): resident memory a
    # worker may use before it is ended (bytes or a size: 2GiB; off: no limit) ...
    worker_memory: int | None = field(
        default_factory=lambda: _env_size("PIPEHOUSE_WORKER_MEMORY", DEFAULT_WORKER_MEMORY)
    )
    # ... seconds without a call before it stops (off: never) ...
    worker_idle: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_WORKER_IDLE", 300.0)
    )
    # ... and seconds its event loop may be blocked before it is ended as unresponsive.
    worker_unresponsive: float | None = field(
        default_factory=lambda: _env_float("PIPEHOUSE_WORKER_UNRESPONSIVE", 30.0)
    )

    # Where plugins run (docs/isolation.md, "Modes"): "isolated" (worker processes) or "inline"
    # (the server's own process); an admin can set one plugin's mode through the API.
    isolation: str = field(default_factory=lambda: os.environ.get("PIPEHOUSE_ISOLATION", ""))
    # Which plugins share a worker: "environment" (those with the same environment) or
    # "plugin" (one worker each).
    worker_sharing: str = field(
        default_factory=lambda: os.environ.get("PIPEHOUSE_WORKER_SHARING", "environment")
    )

    # Garbage collection tuned for serving (api/gc_tuning.py): a process-wide change, so off
    # unless asked for; `serve` asks for it unless PIPEHOUSE_GC_TUNING=0.
    gc_tuning: bool = field(default_factory=lambda: _env_bool("PIPEHOUSE_GC_TUNING", False))

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.plugin_dirs = [Path(d) for d in self.plugin_dirs]

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pipehouse.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int | None:
        return int(self.max_upload_mb * 1024 * 1024) if self.max_upload_mb else None

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")
