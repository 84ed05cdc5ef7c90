"""ChatRuntime and ChatTurn (`pipehouse.runtime.chat`, `runtime.turn`, `runtime.serving`): whose
request plugin code acts for."""

from __future__ import annotations

import pytest

from tests.conftest import USER
from tests.runtime.helpers import message


@pytest.mark.parametrize("streamed", [False, True], ids=["completion", "stream"])
async def test_a_call_for_another_user_does_not_change_whom_the_next_call_serves(harness, streamed):
    # A plugin asks a model as another account, then asks without naming a user: that second
    # call serves the person chatting, not the account named before.
    await harness.add("host_whoami")
    await harness.add("host_asks_as_reviewer")
    harness.store.by_plugin["host_asks_as_reviewer"] = {"STREAM_REVIEW": streamed}
    result = await harness.complete(harness.body("host_asks_as_reviewer"), user=USER)
    review, _, mine = message(result)["content"].rpartition("\nme: ")
    assert "reviewer@example.com" in review
    assert mine == USER["email"]
