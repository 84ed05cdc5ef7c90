"""What the `open_webui` shims are backed by: the server's stores and runtime, filled in by
`pipehouse serve` at start-up (`attach`) and cleared at shutdown (`detach`).

Under `pipehouse run` nothing is attached: shims that can work from what the command line has
(the user of the request) do, the others raise `ServerRequired`. With several servers in one
process (tests) the last one started is the one plugins reach.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipehouse.compat.errors import CompatError

if TYPE_CHECKING:
    from pipehouse.config import Settings
    from pipehouse.runtime.chat import ChatRuntime
    from pipehouse.service.files import FileService
    from pipehouse.service.plugins import PluginService
    from pipehouse.store.accounts import Accounts
    from pipehouse.store.db import Database
    from pipehouse.store.plugins import PluginStore

log = logging.getLogger(__name__)

SYNC_CALL_TIMEOUT = 60.0  # longest a sync-style call may hold the server's event loop


@dataclass
class Backend:
    """The stores one event loop uses: database connections belong to the loop that opened
    them, so the side loop (below) has its own copies on its own engine."""

    db: Database
    accounts: Accounts
    files: FileService | None
    plugin_rows: PluginStore | None
    chats: Any | None = None
    plugins: PluginService | None = None  # live plugin state: the server loop's backend only


@dataclass
class Services:
    loop: asyncio.AbstractEventLoop
    settings: Settings
    backend: Backend
    runtime: ChatRuntime | None
    app: Any = None
    side: SideLoop = field(init=False)

    def __post_init__(self) -> None:
        self.side = SideLoop(self._side_backend)

    def _side_backend(self) -> Backend:
        from pipehouse.store.db import Database

        main = self.backend
        db = Database(self.settings.db_url)
        return Backend(
            db=db,
            accounts=rebind(main.accounts, main.db, db),
            files=rebind(main.files, main.db, db),
            plugin_rows=rebind(main.plugin_rows, main.db, db),
            chats=rebind(main.chats, main.db, db),
        )


def rebind(obj: Any, old: Database, new: Database, depth: int = 3) -> Any:
    """A shallow copy of a store (or a service holding stores) that uses `new` where it used
    `old`; objects that hold no database come back unchanged."""
    if obj is old:
        return new
    if depth == 0 or obj is None or isinstance(obj, type) or not hasattr(obj, "__dict__"):
        return obj
    changed = {}
    for name, value in vars(obj).items():
        swapped = rebind(value, old, new, depth - 1)
        if swapped is not value:
            changed[name] = swapped
    if not changed:
        return obj
    clone = copy.copy(obj)
    for name, value in changed.items():
        setattr(clone, name, value)
    return clone


class SideLoop:
    """A thread with its own event loop and database engine, for the older sync call style
    made on the server's loop (`user = Users.get_user_by_id(id)` in an `async def`).

    Such a call must return the value at once, and the server's loop cannot wait for work it
    would run itself (it is busy running the caller), so the work runs here while the server's
    loop waits, as Open WebUI 0.5/0.6 blocked its loop on a sync database query. Nothing run
    here ever needs the server's loop, so the wait cannot deadlock."""

    def __init__(self, make_backend: Callable[[], Backend]) -> None:
        self._make_backend = make_backend
        self._backend: Backend | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """True once a sync-style call has run here."""
        return self._loop is not None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=serve, name="pipehouse-compat", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    async def _call(self, work: Callable[[Backend], Coroutine[Any, Any, Any]]) -> Any:
        if self._backend is None:
            self._backend = self._make_backend()
        return await work(self._backend)

    def run(self, label: str, work: Callable[[Backend], Coroutine[Any, Any, Any]]) -> Any:
        """Run `work(backend)` on the side loop and wait for its value (blocking the caller)."""
        future = asyncio.run_coroutine_threadsafe(self._call(work), self._start())
        try:
            return future.result(SYNC_CALL_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise CompatError(
                f"{label}() did not finish within {SYNC_CALL_TIMEOUT:g} s while holding the "
                "server's event loop; await it instead (Open WebUI 0.12.4 style)"
            ) from None

    async def close(self) -> None:
        loop, thread, backend = self._loop, self._thread, self._backend
        if loop is None or thread is None:
            return
        if backend is not None:
            done = asyncio.run_coroutine_threadsafe(backend.db.close(), loop)
            try:
                await asyncio.wrap_future(done)
            except Exception as exc:  # closing must not break the server's shutdown
                log.warning("could not close the compat side database: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, 10)
        loop.close()
        self._loop = self._thread = self._backend = None


_current: Services | None = None

# Set in a worker process (runtime/workers/remote.py): table calls are asked of the server,
# and so are toolkits (`get_tools`) and its data directories (`paths`).
remote: Callable[..., Any] | None = None
remote_tools: Callable[..., Coroutine[Any, Any, dict[str, dict[str, Any]]]] | None = None
remote_directories: Callable[[], dict[str, str]] | None = None


def current() -> Services | None:
    return _current


def attach(app: Any) -> Services:
    """Back the shims with this server's stores; call from its lifespan, on its loop."""
    global _current
    state = app.state
    plugins = getattr(state, "plugins", None)
    _current = Services(
        loop=asyncio.get_running_loop(),
        settings=state.settings,
        backend=Backend(
            db=state.db,
            accounts=state.accounts,
            files=getattr(state, "files", None),
            plugin_rows=getattr(plugins, "store", None),
            chats=getattr(state, "chats", None),
            plugins=plugins,
        ),
        runtime=getattr(state, "runtime", None),
        app=app,
    )
    return _current


async def detach(services: Services | None) -> None:
    """Stop backing the shims with `services` (a later server may have replaced it)."""
    global _current
    if services is None:
        return
    if _current is services:
        _current = None
    await services.side.close()
