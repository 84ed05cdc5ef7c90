"""The runtime suite runs twice: plugins in this process (inline) and in worker processes
(isolated); both must pass it (docs/isolation.md, "Modes")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.runtime.helpers import MODES, make_executor


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "inline_only(reason): the test looks at the live plugin instance, which only the "
        "inline executor has in this process",
    )


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker("inline_only")
    if marker is not None and request.param != "inline":
        pytest.skip(f"inline only: {marker.args[0] if marker.args else 'reads the instance'}")
    return str(request.param)


@pytest.fixture
async def harness(mode: str) -> AsyncIterator[Harness]:
    h = Harness(make_executor(mode))
    yield h
    await h.executor.close()
