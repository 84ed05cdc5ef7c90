"""A plugin method together with what its signature accepts, computed once per method.

Open WebUI passes an injected argument (`__user__`, `__event_emitter__`, ...) only when its name
is a parameter of the method; `**kwargs` receives nothing extra. Inspecting a signature costs
microseconds, which matters for a stream filter called once per chunk, so it is done once here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Handler:
    fn: Callable[..., Any]
    name: str
    accepts: frozenset[str]
    is_coroutine: bool
    is_async_generator: bool

    @classmethod
    def of(cls, fn: Callable[..., Any], name: str | None = None) -> Handler:
        try:
            accepts = frozenset(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            accepts = frozenset()
        return cls(
            fn=fn,
            name=name or str(getattr(fn, "__name__", repr(fn))),
            accepts=accepts,
            is_coroutine=inspect.iscoroutinefunction(fn),
            is_async_generator=inspect.isasyncgenfunction(fn),
        )

    def select(self, offered: Mapping[str, Any]) -> dict[str, Any]:
        """The offered keyword arguments this method declares, by Open WebUI's rule."""
        return {name: value for name, value in offered.items() if name in self.accepts}
