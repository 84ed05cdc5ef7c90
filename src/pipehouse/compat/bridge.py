"""Both Open WebUI call styles for one database method.

Open WebUI 0.12.4's table methods are coroutines (`user = await Users.get_user_by_id(id)`);
in older releases they were plain functions (`user = Users.get_user_by_id(id)`), and plugins
use both, often the sync one inside an `async def`. A method wrapped with `dual` serves each
caller the style it wrote:

* awaited on the server's event loop (`await X.m(...)`, `await asyncio.wait_for(X.m(), 5)`,
  `await asyncio.gather(X.m(), X.n())`, `t = X.m(); await t`...): a coroutine, run on the loop
  without blocking. Whether a call is awaited is read from the caller's source when it loads
  (`compat.awaits`), so every way of awaiting holds;
* on the server's event loop, called without `await`: the value, computed at once on a side
  loop while the server's loop waits (`services.SideLoop`), as Open WebUI 0.5/0.6 blocked on a
  sync query. Models, lists and dicts returned this way can still be awaited, so
  `maybe_await(X.m(...))`, `asyncio.gather(X.m(a), X.m(b))` and `c = X.m(); await c` work;
  `None`, booleans and numbers are plain values and cannot be;
* on a worker thread (sync plugin code) or another thread's own loop: the value, computed on
  the server's loop while the calling thread waits; awaited (`asyncio.run(X.m())` in sync
  code), a coroutine that runs it on the server's loop.

Without a server (`pipehouse run`) a method that can work from the request's user does; the
others raise `ServerRequired`.
"""

from __future__ import annotations

import asyncio
import bisect
import dis
import functools
import sys
from collections.abc import Callable, Coroutine, Generator
from types import CodeType, FrameType
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from pipehouse.compat import awaits
from pipehouse.compat import services as compat_services
from pipehouse.compat.errors import DOCS, CompatError, ServerRequired
from pipehouse.compat.services import Backend

T = TypeVar("T")
Impl = Callable[..., Coroutine[Any, Any, Any]]


class AwaitableValue:
    """Mixin: awaiting the object gives the object itself. Hashed by identity, as
    `asyncio.gather` keys its arguments by them (lists and pydantic models are not hashable)."""

    __hash__ = object.__hash__

    def __await__(self) -> Generator[Any, None, Any]:
        return self
        yield  # a generator: `await value` finishes at once with `value`


# `misc`: list and dict declare `__hash__ = None`; these are hashed by identity on purpose.
class AwaitableList(AwaitableValue, list[Any]):  # type: ignore[misc]
    pass


class AwaitableDict(AwaitableValue, dict[Any, Any]):  # type: ignore[misc]
    pass


def awaitable(value: T) -> T:
    """`value`, as something `await` also accepts when its type allows."""
    if isinstance(value, AwaitableValue):
        return value
    if type(value) is list:  # exactly a list: a subclass keeps its own type
        return cast(T, AwaitableList(cast(list[Any], value)))
    if type(value) is dict:
        return cast(T, AwaitableDict(cast(dict[Any, Any], value)))
    return value


@functools.lru_cache(maxsize=2048)
def _instructions(code: CodeType) -> tuple[list[int], list[str]]:
    found = list(dis.get_instructions(code))
    return [i.offset for i in found], [i.opname for i in found]


def awaited(frame: FrameType | None) -> bool:
    """True when the call `frame` is making right now is awaited (`compat.awaits`). Code without
    a source to read (`exec` of a string) falls back to the bytecode: awaited right away."""
    found = awaits.awaited(frame)
    return found if found is not None else _awaited_right_away(frame)


def _awaited_right_away(frame: FrameType | None) -> bool:
    """True when the call `frame` is making right now is the operand of an `await`."""
    if frame is None:
        return False
    offsets, names = _instructions(frame.f_code)
    # `f_lasti` is the call being made (or one of its inline cache slots, on 3.11): the next
    # real instruction is GET_AWAITABLE exactly when the call's result is awaited.
    index = bisect.bisect_right(offsets, frame.f_lasti)
    return index < len(names) and names[index] == "GET_AWAITABLE"


def finish_now(coroutine: Coroutine[Any, Any, T], label: str) -> T:
    """The value of a coroutine that never suspends (the command line's in-memory answers)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise CompatError(f"{label}() needs an event loop here")


def run(
    label: str,
    impl: Impl,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    caller: FrameType | None,
    *,
    without_server: bool = False,
    sync_on_loop: bool = True,
) -> Any:
    """Call `impl(backend, *args, **kwargs)` in the style the caller expects (module doc)."""
    services = compat_services.current()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    wants_coroutine = awaited(caller)
    if services is None and compat_services.remote is not None:  # in an isolated worker
        return compat_services.remote(
            label, impl, args, kwargs, wants_coroutine, sync_on_loop=sync_on_loop
        )
    if services is None:
        if not without_server:
            raise ServerRequired(label)
        coroutine = impl(None, *args, **kwargs)
        if wants_coroutine:
            return coroutine
        return awaitable(finish_now(coroutine, label))
    if running is services.loop:
        if wants_coroutine:
            return impl(services.backend, *args, **kwargs)
        if not sync_on_loop:
            raise CompatError(
                f"{label}() changes state the server keeps in memory, so in async code it "
                f"must be awaited: `await {label}(...)` (Open WebUI 0.12.4 style); see {DOCS}"
            )

        def work(backend: Backend) -> Coroutine[Any, Any, Any]:
            return impl(backend, *args, **kwargs)

        return awaitable(services.side.run(label, work))
    if wants_coroutine:
        return _on_loop(impl(services.backend, *args, **kwargs), services.loop)
    future = asyncio.run_coroutine_threadsafe(
        impl(services.backend, *args, **kwargs), services.loop
    )
    return awaitable(future.result())


async def _on_loop(coroutine: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> T:
    """`coroutine` run on `loop` (the server's), awaited from another thread's loop."""
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))


def _label(impl: Impl) -> str:
    owner, _, name = impl.__qualname__.rpartition(".")
    return f"{owner.removesuffix('Table')}.{name}" if owner else name


def dual(
    *, without_server: bool = False, sync_on_loop: bool = True, label: str | None = None
) -> Callable[[Impl], Callable[..., Any]]:
    """Make `async def name(backend, ...)` in a `XTable` class the method `X.name(...)` that
    serves both call styles. `without_server`: the method works under `pipehouse run` (it gets
    `backend=None`). `sync_on_loop=False`: the un-awaited call on the server's loop is refused
    (the method changes what only the server's loop may change). `label`: the name errors
    use, when not `X.name`."""

    def wrap(impl: Impl) -> Callable[..., Any]:
        name = label or _label(impl)

        @functools.wraps(impl)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return run(
                name,
                impl,
                args,
                kwargs,
                sys._getframe(1),
                without_server=without_server,
                sync_on_loop=sync_on_loop,
            )

        method._pipehouse_dual = True  # type: ignore[attr-defined]  # a worker may name it
        return method

    return wrap


class AwaitableModel(AwaitableValue, BaseModel):
    """Base of the shims' pydantic models: a value that `await` also accepts (module doc)."""


class Table:
    """Base of the `XTable` classes behind `Users`, `Files`...: a method pipehouse does not
    provide is named in the error."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        table = type(self).__name__.removesuffix("Table")
        raise AttributeError(
            f"pipehouse does not support {table}.{name}; the supported methods are listed in {DOCS}"
        )
