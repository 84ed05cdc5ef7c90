"""The two call styles (`pipehouse.compat.bridge`): telling an awaited call from a plain one,
and values that `await` accepts too."""

from __future__ import annotations

import asyncio
import sys

from pipehouse.compat.bridge import AwaitableModel, awaitable, awaited


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
