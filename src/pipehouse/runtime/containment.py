"""Whatever plugin code raises reaches the server as a `PluginError`, except real cancellation.

`SystemExit`, `KeyboardInterrupt` and `GeneratorExit` are not `Exception`s: raised by a plugin
(`sys.exit()` on a missing setting is common) they pass every `except Exception`, and asyncio
re-raises the first two out of the event loop, which stops the whole server. Open WebUI lets them
through; pipehouse treats them as that plugin's failure. A `CancelledError` is let through only
when the task really was cancelled (the client left, the server stops): one a plugin raises of
its own accord is its error like any other.
"""

from __future__ import annotations

import asyncio

from pipehouse.plugin.errors import PluginError


def cancelled_for_real() -> bool:
    """After a `CancelledError`: was the current task cancelled (rather than handed one)?"""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def plugin_failure(
    exc: BaseException, *, plugin_id: str, path: str | None, stage: str
) -> PluginError:
    """`exc`, raised by the plugin's code during `stage`, as an error naming the plugin."""
    hint = None
    if not isinstance(exc, Exception):
        hint = (
            f"the plugin raised {type(exc).__name__}, which would stop an Open WebUI server; "
            "pipehouse reports it as this plugin's error and keeps serving (raise an Exception "
            "instead)"
        )
    return PluginError.from_exception(exc, plugin_id=plugin_id, path=path, stage=stage, hint=hint)
