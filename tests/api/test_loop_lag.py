"""An async plugin that blocks the event loop is named: a warning in the log, a count in
`/metrics` and a note in its status, with what to do instead (runtime/loop_lag.py)."""

from __future__ import annotations

import logging
import re

import pytest

from tests.api.conftest import start_server
from tests.support.polling import eventually

PLUGIN = "loop_blocks_async_pipe"


@pytest.fixture
def server(tmp_path, database_url):
    # the server's own loop is watched here (inline); a worker's: tests/api/test_isolation_*
    yield from start_server(
        tmp_path, database_url, [PLUGIN], loop_lag_threshold=0.3, isolation="inline"
    )


def stalls_counted(client) -> float:
    text = client.get("/metrics").text
    found = re.search(rf'^pipehouse_loop_stalls_total{{plugin="{PLUGIN}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_plugin_blocking_the_loop_is_logged_counted_and_shown_in_its_status(server, caplog):
    client = server.client()
    with caplog.at_level(logging.WARNING, logger="pipehouse.runtime.loop_lag"):
        reply = client.post(
            "/v1/chat/completions",
            json={"model": PLUGIN, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert reply.status_code == 200
        assert eventually(lambda: stalls_counted(client), what="a stall counted") >= 1
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipehouse.runtime.loop_lag"]
    assert any(f"plugin '{PLUGIN}'" in w and "await asyncio.sleep" in w for w in warnings)

    row = client.get(f"/api/v1/functions/id/{PLUGIN}").json()
    stall = row["status"]["loop_stall"]
    assert stall["count"] >= 1
    assert stall["path"].endswith(f"{PLUGIN}.py") and stall["line"]
    assert "await asyncio.sleep" in stall["hint"] and "def pipe" in stall["hint"]
    overview = {p["id"]: p for p in client.get("/api/v1/plugins").json()}
    assert overview[PLUGIN]["loop_stall"]["count"] == stall["count"]
    # users see that a plugin exists, not where it is stuck
    listed = server.client(key=server.user_key()).get("/api/v1/functions/").json()
    assert [row["status"]["loop_stall"] for row in listed if row["id"] == PLUGIN] == [None]
