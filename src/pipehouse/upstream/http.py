"""The HTTP connections to every upstream: one aiohttp session shared by all connections.

aiohttp rather than httpx: reading an upstream costs a proxy most of its CPU, and aiohttp parses
HTTP (chunked bodies included) in C. `bench/clients.py` measured the client's own CPU time per
request against the mock upstream, httpx as pipehouse had it = 1.00x: aiohttp 3.0x less for a
non-streamed request at 1 connection and 14x at 16; 2.9x and 6.5x less for a 100-chunk stream
(httpcore alone 1.1-1.3x; bench/README.md has the run).
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import aiohttp


class UpstreamHTTP:
    """One aiohttp session, made on first use (aiohttp binds it to the running event loop).

    No limit on connections: every streamed answer holds one for its whole length, and each is
    kept alive for the next request to the same upstream. No cookies: the session is shared by
    every user, so an upstream's `Set-Cookie` for one request must not ride along on everyone's
    next ones.
    """

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
                cookie_jar=aiohttp.DummyCookieJar(),
                # Only the headers pipehouse sends: no User-Agent naming aiohttp's version.
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for `url` (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, less
    `NO_PROXY`), as httpx and Open WebUI's `trust_env=True` sessions honour them. Read once per
    connection rather than by aiohttp on every request."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy
