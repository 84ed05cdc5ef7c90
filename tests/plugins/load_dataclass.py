"""
title: Uses a dataclass (needs its module registered in sys.modules)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Reply:
    text: str
    tags: list[str] = field(default_factory=list)


class Pipe:
    def pipe(self, body: dict) -> dict:
        return asdict(Reply("hi", ["greeting"]))
