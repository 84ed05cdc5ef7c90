"""Where upstream models live: one `Connection` per OpenAI-compatible base URL.

Connections come from three places, merged by id (later wins): Open WebUI's own environment
variables (so an existing deployment's settings carry over), `pipehouse serve --upstream`, and
the ones an admin stored through the API or `pipehouse connections`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Connection:
    id: str
    base_url: str  # without a trailing slash: "http://127.0.0.1:11434/v1"
    api_key: str | None = field(default=None, repr=False)
    # Open WebUI's `prefix_id`: models are listed as f"{prefix}.{upstream_id}" when set.
    prefix: str | None = None
    # Open WebUI's `model_ids`: only these upstream ids are offered; empty offers all.
    models: tuple[str, ...] = ()
    enabled: bool = True
    source: str = "env"  # env | cli | stored

    def public_id(self, upstream_id: str) -> str:
        return f"{self.prefix}.{upstream_id}" if self.prefix else upstream_id


def connections_from_env(environ: Mapping[str, str]) -> list[Connection]:
    """Open WebUI's variables: `OPENAI_API_BASE_URLS`/`OPENAI_API_KEYS` (semicolon-separated,
    paired by position) or the single `OPENAI_API_BASE_URL`/`OPENAI_API_KEY`.

    Unlike Open WebUI, nothing points at api.openai.com unless it is configured: a server
    that starts without these variables reaches no third party.
    """
    urls = [u.strip() for u in environ.get("OPENAI_API_BASE_URLS", "").split(";")]
    keys = [k.strip() for k in environ.get("OPENAI_API_KEYS", "").split(";")]
    if not any(urls):
        urls = [environ.get("OPENAI_API_BASE_URL", "").strip()]
        keys = [environ.get("OPENAI_API_KEY", "").strip()]
    found = []
    for index, url in enumerate(urls):
        if not url:
            continue
        key = keys[index] if index < len(keys) else ""
        found.append(
            Connection(id=f"openai-{index}", base_url=url.rstrip("/"), api_key=key or None)
        )
    return found
