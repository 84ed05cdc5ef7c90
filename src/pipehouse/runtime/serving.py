"""Whose request plugin code is acting for: the runtime and user of the request being served,
for host calls made from plugin code (`pipehouse.host`, the `open_webui.*` imports)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipehouse.runtime.chat import ChatRuntime

serving: ContextVar[tuple[ChatRuntime, dict[str, Any]] | None] = ContextVar("serving", default=None)


@contextlib.contextmanager
def serving_as(runtime: ChatRuntime, user: dict[str, Any]) -> Iterator[None]:
    """Host calls made inside the block run for `user`; the previous user comes back after."""
    token = serving.set((runtime, user))
    try:
        yield
    finally:
        serving.reset(token)
