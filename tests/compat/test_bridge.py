"""The two call styles (`pipehouse.compat.bridge`): telling an awaited call from a plain one,
and values that `await` accepts too."""

from __future__ import annotations

import asyncio
import json
import sys

from pipehouse.compat.bridge import AwaitableModel, awaitable, awaited
from tests.conftest import USER
from tests.runtime.helpers import message


def probe() -> bool:
    seen = awaited(sys._getframe(1))

    async def value() -> bool:
        return seen

    return value() if seen else seen  # type: ignore[return-value]


def from_a_helper() -> bool:
    return probe()


async def test_an_awaited_call_is_told_from_a_plain_one():
    assert await probe() is True
    assert probe() is False
    assert await probe() is True
    assert [await probe() for _ in range(2)] == [True, True]
    assert from_a_helper() is False
    pending = probe()  # not awaited where it is called
    assert pending is False


class Point(AwaitableModel):
    x: int


async def test_values_can_be_awaited_and_used_as_they_are():
    point = Point(x=1)
    assert await point is point
    items = awaitable([point])
    assert items == [point] and await items is items
    mapping = awaitable({"a": 1})
    assert mapping["a"] == 1 and await mapping is mapping
    assert awaitable(None) is None
    both = await asyncio.gather(awaitable([1]), Point(x=2))
    assert both == [[1], Point(x=2)]


async def test_every_way_of_awaiting_a_table_method_gets_a_coroutine(harness):
    # `asyncio.wait_for(...)`, `asyncio.gather(...)`, a conditional and `t = X.m(); await t`:
    # none is the call right before an `await`, and lookups that find nothing (None) or count
    # (an int) cannot be awaited as values.
    await harness.add("compat_users_awaited_forms")
    completion = await harness.complete(harness.body("compat_users_awaited_forms"))
    report = json.loads(message(completion)["content"])
    assert report == {
        "count": 1,
        "me": USER["email"],
        "nobody": None,
        "found": USER["id"],
        "later": None,
    }


def test_the_style_is_read_from_the_source_of_the_call():
    def from_a_test() -> tuple[bool, ...]:
        async def main() -> tuple[bool, ...]:
            waited = await asyncio.wait_for(probe(), 5)
            gathered = await asyncio.gather(probe(), probe())
            chosen = await (probe() if waited else asyncio.sleep(0, False))
            held = probe()
            return (waited, *gathered, chosen, await held, probe())

        return asyncio.run(main())

    assert from_a_test() == (True, True, True, True, True, False)
