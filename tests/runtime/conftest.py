"""The runtime suite runs twice: plugins in this process (inline) and in worker processes
(isolated); both must pass it (docs/isolation.md, "Modes")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Harness
from tests.runtime.helpers import MODES, make_executor


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def harness(mode: str) -> AsyncIterator[Harness]:
    h = Harness(make_executor(mode))
    yield h
    await h.executor.close()
