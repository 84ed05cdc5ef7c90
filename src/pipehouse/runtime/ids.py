"""Identifiers for completions, messages and requests.

They must be unique, not secret: nobody gains anything by guessing one. So each is a random
per-process prefix and a counter, not fresh randomness: `os.urandom` is a system call, and
even `random.getrandbits` costs more than the rest of an id, three times per request. The
prefix (80 random bits) is drawn again in every forked child.
"""

from __future__ import annotations

import itertools
import os

_prefix: str
_uuid_prefix: str
_counter: itertools.count[int]


def _reset() -> None:
    global _prefix, _uuid_prefix, _counter
    p = _prefix = os.urandom(10).hex()
    # the same prefix shaped as the first four groups of a version 4 UUID
    _uuid_prefix = f"{p[:8]}-{p[8:12]}-4{p[13:16]}-{'89ab'[int(p[16], 16) & 3]}{p[17:20]}-"
    _counter = itertools.count(int.from_bytes(os.urandom(3), "big"))


_reset()
os.register_at_fork(after_in_child=_reset)


def unique_hex() -> str:
    """32 hex digits, unique to this process and call."""
    return f"{_prefix}{next(_counter) & 0xFFFFFFFFFFFF:012x}"


def unique_uuid() -> str:
    """A string shaped as a version 4 UUID, unique the same way."""
    return f"{_uuid_prefix}{next(_counter) & 0xFFFFFFFFFFFF:012x}"
