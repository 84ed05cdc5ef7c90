"""Identifiers for completions, messages and requests.

They must be unique, not secret: nobody gains anything by guessing one. So they come from
`random` (seeded from the OS at start and again in every forked child) instead of
`os.urandom`, whose system call costs more than the rest of an id, three times per request.
"""

from __future__ import annotations

from random import getrandbits


def random_hex() -> str:
    """32 random hex digits."""
    return f"{getrandbits(128):032x}"


def random_uuid() -> str:
    """A version 4 UUID string, without the cost of building a `uuid.UUID`."""
    h = f"{getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
