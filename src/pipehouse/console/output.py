"""Plugin code prints (at import, in `__init__`, while it runs), and so do the packages and
programs it starts. A command's stdout must stay its own: the answer of `run`, the JSON of
`inspect --json`. So while a command runs plugins, file descriptor 1 and `sys.stdout` point at
stderr, and the command writes its own output to the stream this hands it."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def plugin_output_to_stderr() -> Iterator[TextIO]:
    """Send everything written to stdout to stderr; yield a stream on the real stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    own = open(  # noqa: SIM115 - closed below, after the descriptors are put back
        os.dup(saved),
        "w",
        encoding=getattr(sys.stdout, "encoding", None) or "utf-8",
        errors="replace",
    )
    previous = sys.stdout
    os.dup2(2, 1)  # subprocesses and C code write to the descriptor, not to sys.stdout
    sys.stdout = sys.stderr
    try:
        yield own
    finally:
        with contextlib.suppress(OSError, ValueError):
            own.flush()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        sys.stdout = previous
        os.dup2(saved, 1)
        os.close(saved)
        with contextlib.suppress(OSError, ValueError):
            own.close()
