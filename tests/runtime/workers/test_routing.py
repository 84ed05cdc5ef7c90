"""RoutingExecutor (runtime/workers/routing.py): each plugin runs in the mode it is given, one
chain may mix both, and a plugin moved to the other mode answers from there at once."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.workers.executor import ProcessExecutor
from pipehouse.runtime.workers.routing import RoutingExecutor, parse_mode
from tests.conftest import Harness, content_of
from tests.runtime.helpers import assert_well_formed, message


@pytest.fixture
async def routed() -> AsyncIterator[Harness]:
    executor = RoutingExecutor(InProcessExecutor(), ProcessExecutor(), default="isolated")
    harness = Harness(executor)
    yield harness
    await executor.close()


async def test_a_chain_of_inline_and_isolated_filters_runs_in_order(routed):
    executor: RoutingExecutor = routed.executor
    executor.modes["f_b"] = "inline"  # f_a and f_c stay isolated: three runs of the chain
    for plugin_id, priority in (("f_a", 1), ("f_b", 2), ("f_c", 3)):
        await routed.add("filter_trail", plugin_id=plugin_id, active=True, is_global=True)
        routed.store.by_plugin[plugin_id] = {"priority": priority}
    await routed.add("returns_str")

    payloads = await routed.stream(routed.body("returns_str"))
    assert_well_formed(payloads)
    assert content_of(payloads) == "plain answer[f_a][f_b][f_c]<f_a><f_b><f_c>"
    completed = await routed.complete(routed.body("returns_str"))
    assert message(completed)["content"] == "plain answer<f_a><f_b><f_c>"


async def test_a_plugin_moved_inline_answers_from_this_process(routed):
    executor: RoutingExecutor = routed.executor
    await routed.add("isolation_reports_itself", plugin_id="where")
    await routed.add("returns_str")
    isolated = await routed.complete(routed.body("where"))
    assert f'"pid": {os.getpid()},' not in message(isolated)["content"]

    assert await executor.set_mode("where", "inline") == "inline"
    inline = await routed.complete(routed.body("where"))
    assert f'"pid": {os.getpid()},' in message(inline)["content"]

    assert await executor.set_mode("where", None) == "isolated"
    back = await routed.complete(routed.body("where"))
    assert f'"pid": {os.getpid()},' not in message(back)["content"]


def test_a_mode_is_isolated_or_inline():
    assert parse_mode("", "isolated") == "isolated"
    assert parse_mode(" Inline ", "isolated") == "inline"
    with pytest.raises(ValueError, match="isolated, inline"):
        parse_mode("sandboxed", "isolated")
