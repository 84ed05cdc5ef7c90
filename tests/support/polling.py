"""Waiting for something a server does in its own time, without sleeping a guessed amount."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], *, seconds: float = 20.0, what: str = "it") -> T:
    """Poll `check()` until it returns something truthy, and return that."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.05)
    return result


async def eventually_async(check: Callable[[], T], *, seconds: float = 20.0, what: str = "it") -> T:
    """`eventually` for async tests: the event loop keeps running between the checks."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        await asyncio.sleep(0.02)
    return result
