"""
title: Language detector
author: pipehouse tests
version: 0.1.0
description: Tags the request with the language of its last message (metadata "language") and
  says which in a status line, for the pipe and the filters after it.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __event_emitter__) -> dict:
        text = str(body["messages"][-1].get("content", "")).lower()
        language = "fr" if "bonjour" in text else "en"
        body["metadata"]["language"] = language
        await __event_emitter__(
            {"type": "status", "data": {"description": f"language: {language}", "done": True}}
        )
        return body
