"""Small readers for the payloads `harness.stream` returns, shared by the runtime tests."""

from __future__ import annotations

import json
from typing import Any

from pipehouse.runtime.executor import Executor
from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.workers.executor import ProcessExecutor
from tests.conftest import USER

MODES = ("inline", "isolated")


def make_executor(mode: str, **options: Any) -> Executor:
    """The executor a runtime test runs on: in this process, or in worker processes."""
    if mode == "inline":
        return InProcessExecutor(**options)
    return ProcessExecutor(**options)


def chunks(payloads: list[Any]) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` objects of a parsed stream, in order."""
    return [p for p in payloads if isinstance(p, dict) and "choices" in p]


def steps(payloads: list[Any]) -> list[tuple[dict[str, Any], str | None]]:
    """(delta, finish_reason) of every chunk that has a choice."""
    return [
        (c["choices"][0]["delta"], c["choices"][0].get("finish_reason"))
        for c in chunks(payloads)
        if c["choices"]
    ]


def events(payloads: list[Any]) -> list[dict[str, Any]]:
    """The in-band `{"event": {...}}` frames of a parsed stream."""
    return [p["event"] for p in payloads if isinstance(p, dict) and "event" in p]


def errors(payloads: list[Any]) -> list[dict[str, Any]]:
    return [p["error"] for p in payloads if isinstance(p, dict) and "error" in p]


def assert_well_formed(payloads: list[Any]) -> None:
    """What every pipehouse stream guarantees (encoding.py): one id, role delta first, exactly
    one finish chunk, `[DONE]` last. (Open WebUI: new id per chunk, no role delta.)"""
    assert payloads[-1] == "[DONE]"
    assert payloads.count("[DONE]") == 1
    all_chunks = chunks(payloads)
    assert all_chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len({c["id"] for c in all_chunks}) == 1
    finishes = [d for d, reason in steps(payloads) if reason]
    assert len(finishes) == 1
    assert_text_before_finish(payloads)


def assert_text_before_finish(payloads: list[Any]) -> None:
    """Every content delta comes before the chunk with the `finish_reason`, which carries
    none itself: a client may stop reading at the finish."""
    all_steps = steps(payloads)
    at = next(i for i, (_, reason) in enumerate(all_steps) if reason)
    late = [delta for delta, _ in all_steps[at:] if delta.get("content")]
    assert late == [], f"text at or after the finish chunk: {late}"


def message(completion: dict[str, Any]) -> dict[str, Any]:
    return completion["choices"][0]["message"]


def answer_json(completion: dict[str, Any]) -> Any:
    """A non-streamed answer whose content is JSON (the `args_*` report pipes)."""
    return json.loads(message(completion)["content"])


async def raw_sse(harness, body: dict[str, Any], host=None) -> bytes:
    """The exact bytes of a streamed answer."""
    turn = await harness.runtime.start({**body, "stream": True}, USER, host=host)
    return b"".join([part async for part in turn.sse()])
