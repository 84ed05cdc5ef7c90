"""A bounded fuzz run of the whole HTTP API, driven by its own `/openapi.json` (schemathesis).

Every operation gets valid and invalid requests made from the schema, with the admin key, against
a real server: no answer may be a 5xx, and every answer's status, media type and body must be the
ones the schema documents (errors included: `4XX`/`5XX` as `ErrorAnswer`, 422 as `FieldError`s),
so a schema-driven client and the server agree. Generation is derandomized, so a run is
reproducible, and small enough to stay within a few minutes on two cores.

Left out: `GET /api/v1/events` (a stream that stays open), the operations that reach the network
(an upstream connection is checked by fetching its models; `/pipelines/add` downloads a URL).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipehouse.api.app import create_app
from pipehouse.config import Settings
from tests.api.conftest import ADMIN_KEY, Server, start_server

# Per operation. 30 keep the run within CI's time (about 2 minutes of CPU for the whole API, 4 to
# 5 minutes on two busy cores); a deeper run sets PIPEHOUSE_FUZZ_EXAMPLES (e.g. 300).
MAX_EXAMPLES = int(os.environ.get("PIPEHOUSE_FUZZ_EXAMPLES", "30"))

FUZZ_PLUGINS = ["kind_pipe", "kind_filter", "action_returns", "kind_tools", "pipeline_filter"]

NOT_FUZZED = [
    ("GET", "/api/v1/events"),  # an open stream
    ("POST", "/api/v1/connections"),  # fetches the upstream's models
    ("POST", "/api/v1/connections/{connection_id}/update"),
    ("POST", "/pipelines/add"),  # downloads a URL
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> Iterator[Server]:
    """One server for the whole run, on SQLite: what depends on the database (pages, ids) is
    tested on both databases by the tests of each route; twice the run would not fit CI."""
    # offline: whatever a generated plugin source asks to install comes from uv's cache only,
    # so no operation reaches a package registry either
    yield from start_server(tmp_path_factory.mktemp("fuzz"), None, FUZZ_PLUGINS, offline=True)


def api_schema() -> schemathesis.BaseSchema:
    """The schema the server serves at `/openapi.json`, built from the same app (it needs no
    running server, so pytest can list one test per operation)."""
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp(prefix="ph-fuzz-schema-"))))
    loaded = schemathesis.openapi.from_dict(app.openapi())
    for method, path in NOT_FUZZED:
        loaded = loaded.exclude(method=method, path=path)
    return loaded


schema = api_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_answers_match_the_schema(case, fuzz_server: Server) -> None:
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        timeout=30,
    )
