"""Garbage collection tuned for a long-running server (`PIPEHOUSE_GC_TUNING`, on for `serve`).

The collector's settings belong to the whole process, so building an app (a test, an embedder)
leaves them alone; only a server that asks for it changes them, and puts them back at its end.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# A request allocates a few hundred objects and has dozens of others in flight beside it: at the
# default 700 allocations the young generation is collected several times per request, each
# time walking every live request's objects. Every 20,000 costs a little memory and about a
# tenth of the request rate less (bench/README.md).
SERVER_THRESHOLDS = (20_000, 10, 10)


@contextlib.contextmanager
def tuned_for_serving(enabled: bool) -> Iterator[None]:
    """While serving: what start-up built is frozen out of every later collection, and the
    young generation is collected less often. The previous thresholds come back at the end."""
    if not enabled:
        yield
        return
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*SERVER_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
