"""Ids for completions and messages: unique, and shaped as clients expect them."""

from __future__ import annotations

import os
import uuid

from pipehouse.runtime.ids import unique_hex, unique_uuid


def test_message_ids_are_distinct_version_4_uuids():
    ids = [unique_uuid() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:10]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_hex_ids_are_distinct_and_32_hex_digits():
    ids = [unique_hex() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_forked_worker_makes_ids_of_its_own():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id of each kind, then leave at once
        os.write(write, f"{unique_hex()} {unique_uuid()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_hex, child_uuid = os.read(read, 200).decode().split()
    os.close(read)
    assert child_hex[:20] != unique_hex()[:20]  # a new random prefix, not the parent's
    assert child_uuid[:23] != unique_uuid()[:23]
