"""Server settings: command-line flags over `PIPEHOUSE_*` environment variables over defaults.

pydantic-settings reads the variables; a value that does not parse stops the start with a
`SettingsError` naming the variable and the form it takes. Only the fields that name a variable
(`validation_alias`) read one: host, port and the like are set by flags alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ByteSize, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

_OFF = ("0", "none", "off")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
SECONDS = "a number of seconds, like 300 or 2.5 (0, none or off: no limit)"
SIZE = "a size, like 33554432, 32MiB or 32MB (0, none or off: no limit)"


class SettingsError(ValueError):
    """A `PIPEHOUSE_*` variable (or a setting given in code) that does not parse."""


def _seconds(value: Any) -> Any:
    """`300`, `2.5`; `0`, `none` or `off` for no limit (None)."""
    if not isinstance(value, str):
        return value
    raw = value.strip()
    if raw.lower() in _OFF:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            "a number of seconds, like 300 or 2.5 (0, none or off: no limit)"
        ) from None


def _size(value: Any) -> Any:
    """Bytes: `33554432`, `32MiB`, `32MB` (decimal), `512k` (pydantic's `ByteSize` units); `0`,
    `none` or `off` for no limit (None)."""
    if not isinstance(value, str):
        return value
    raw = value.strip()
    if raw.lower() in _OFF:
        return None
    try:
        return int(TypeAdapter(ByteSize).validate_python(raw))
    except ValidationError:
        raise ValueError(
            "a size, like 33554432, 32MiB or 32MB (0, none or off: no limit)"
        ) from None


def _flag(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    raw = value.strip().lower()
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    raise ValueError("on or off: 1, true, yes or on; 0, false, no or off")


def _semicolons(value: Any) -> Any:
    """A semicolon-separated variable, as Open WebUI's `OPENAI_API_BASE_URLS`; empty items stay,
    so that lists paired by position (URLs and keys) stay paired."""
    if not isinstance(value, str):
        return value
    return [item.strip() for item in value.split(";")] if value.strip() else []


Seconds = Annotated[float | None, BeforeValidator(_seconds)]
Size = Annotated[int | None, BeforeValidator(_size)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Semicolons = Annotated[list[str], NoDecode, BeforeValidator(_semicolons)]


def _env(name: str, default: Any = None, **kw: Any) -> Any:
    """A field read from the variable `name`."""
    return Field(default, validation_alias=name, **kw)


class _NamedVariablesOnly(EnvSettingsSource):
    """Variables for the fields that name one; no `PIPEHOUSE_HOST` by accident."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field.validation_alias is None:
            return None, field_name, False
        return super().get_field_value(field, field_name)


DEFAULT_MAX_BODY = 32 * 1024 * 1024  # a long conversation with images inlined fits
DEFAULT_WORKER_MEMORY = 2 * 1024**3  # a plugin with a small model or a big dataframe fits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        case_sensitive=True,
        env_ignore_empty=True,  # an empty variable is an unset one: the default
        populate_by_name=True,  # code and flags set fields by name
    )

    data_dir: Path = _env("PIPEHOUSE_DATA_DIR", Path(".pipehouse"))
    database_url: str | None = _env("PIPEHOUSE_DATABASE_URL", repr=False)
    host: str = "127.0.0.1"
    port: int = 8080
    plugin_dirs: list[Path] = Field(default_factory=list)
    no_auth: bool = False
    admin_key: str | None = _env("PIPEHOUSE_ADMIN_KEY", repr=False)
    admin_email: str = _env("PIPEHOUSE_ADMIN_EMAIL", "admin@localhost")
    call_timeout: Seconds = _env("PIPEHOUSE_CALL_TIMEOUT", 300.0)
    idle_timeout: Seconds = _env("PIPEHOUSE_IDLE_TIMEOUT", 300.0)
    # Seconds the event loop may be blocked before the plugin blocking it is named (runtime/
    # loop_lag.py); 0 or off: not watched.
    loop_lag_threshold: Seconds = _env("PIPEHOUSE_LOOP_LAG_THRESHOLD", 1.0)
    # 0 or off: manifold model lists are not cached
    manifold_ttl: Annotated[float, BeforeValidator(lambda v: _seconds(v) or 0.0)] = _env(
        "PIPEHOUSE_MODELS_TTL", 60.0
    )
    watch: Flag = _env("PIPEHOUSE_WATCH", True)
    log_json: Flag = _env("PIPEHOUSE_LOG_JSON", False)
    # Send plugins' events in-band in every stream (otherwise only when a client asks).
    inline_events: Flag = _env("PIPEHOUSE_INLINE_EVENTS", False)
    auth_cache_ttl: float = 10.0
    # Upstream model servers from `serve --upstream` or PIPEHOUSE_UPSTREAMS; each one's key is at
    # the same position in PIPEHOUSE_UPSTREAM_KEYS (never a flag: flags show in `ps`).
    upstreams: Semicolons = _env("PIPEHOUSE_UPSTREAMS", [])
    upstream_keys: Semicolons = _env("PIPEHOUSE_UPSTREAM_KEYS", [], repr=False)
    # Longest wait for an upstream's next bytes (its answer, or the next chunk of a stream).
    # (0 or off: the default, 300 s: an upstream that never answers must not hold a request)
    upstream_timeout: Annotated[float, BeforeValidator(lambda v: _seconds(v) or 300.0)] = _env(
        "PIPEHOUSE_UPSTREAM_TIMEOUT", 300.0
    )
    # How long an `__event_call__` waits for a client's answer unless the call says (0: forever).
    event_call_timeout: Seconds = _env("PIPEHOUSE_EVENT_CALL_TIMEOUT", 300.0)
    # Model round trips a chat with tools may take before it must answer (Open WebUI: 256).
    max_tool_rounds: int = _env("PIPEHOUSE_MAX_TOOL_ROUNDS", 16)
    # Largest upload to /api/v1/files, in MB (0, "none" or "off": no limit).
    max_upload_mb: Annotated[float | None, BeforeValidator(_seconds)] = _env(
        "PIPEHOUSE_MAX_UPLOAD_MB", 25.0
    )
    # Largest request body, in bytes, of every route but file uploads (None: no limit). A body
    # is held in memory while it is read: this bounds what one request takes (413 past it).
    max_body: Size = _env("PIPEHOUSE_MAX_BODY", DEFAULT_MAX_BODY)
    # Uploads go to this S3-compatible bucket when set (else to DATA_DIR/uploads). Credentials
    # are boto3's: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role.
    s3_bucket: str | None = _env("PIPEHOUSE_S3_BUCKET")
    # For MinIO and other S3-compatible servers (unset: AWS).
    s3_endpoint_url: str | None = _env("PIPEHOUSE_S3_ENDPOINT_URL")
    s3_region: str | None = _env("PIPEHOUSE_S3_REGION")
    # Put before every object key ("pipehouse/"), to share a bucket.
    s3_prefix: str = _env("PIPEHOUSE_S3_PREFIX", "")
    # Redis shared by replicas of one deployment: events, event calls and change notices
    # between them (docs/deployment.md). Unset: one server, or replicas that poll the database.
    redis_url: str | None = _env("PIPEHOUSE_REDIS_URL", repr=False)
    # Put before every Redis key and channel, to share a Redis between deployments.
    redis_prefix: str = _env("PIPEHOUSE_REDIS_PREFIX", "pipehouse")
    # Worker processes (isolated mode, docs/isolation.md "Containment"): resident memory a
    # worker may use before it is ended (bytes or a size: 2GiB; off: no limit) ...
    worker_memory: Size = _env("PIPEHOUSE_WORKER_MEMORY", DEFAULT_WORKER_MEMORY)
    # ... seconds without a call before it stops (off: never) ...
    worker_idle: Seconds = _env("PIPEHOUSE_WORKER_IDLE", 300.0)
    # ... and seconds its event loop may be blocked before it is ended as unresponsive.
    worker_unresponsive: Seconds = _env("PIPEHOUSE_WORKER_UNRESPONSIVE", 30.0)

    # Where plugins run (docs/isolation.md, "Modes"): "isolated" (worker processes) or "inline"
    # (the server's own process); an admin can set one plugin's mode through the API.
    isolation: str = _env("PIPEHOUSE_ISOLATION", "")
    # Which plugins share a worker: "environment" (those with the same environment) or
    # "plugin" (one worker each).
    worker_sharing: str = _env("PIPEHOUSE_WORKER_SHARING", "environment")

    # Garbage collection tuned for serving (api/gc_tuning.py): a process-wide change, so off
    # unless asked for; `serve` asks for it unless PIPEHOUSE_GC_TUNING=0.
    gc_tuning: Flag = _env("PIPEHOUSE_GC_TUNING", False)

    # Plugin environments are built from uv's package cache only, never a registry (docs/
    # isolation.md, "Offline use").
    offline: Flag = _env("PIPEHOUSE_OFFLINE", False)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingsError(_explained(error)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _NamedVariablesOnly(settings_cls)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pipehouse.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int | None:
        return int(self.max_upload_mb * 1024 * 1024) if self.max_upload_mb else None

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")


def _explained(error: ValidationError) -> str:
    """One line per value that does not parse: `PIPEHOUSE_CALL_TIMEOUT='5m' is not a number of
    seconds, like 300 or 2.5 (0, none or off: no limit)`."""
    lines = []
    for problem in error.errors(include_url=False):
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        cause = (problem.get("ctx") or {}).get("error")
        if problem["type"] == "value_error" and cause is not None:
            lines.append(f"{name}={problem['input']!r} is not {cause}")
        else:
            lines.append(f"{name}={problem['input']!r}: {problem['msg']}")
    return "\n".join(lines)
