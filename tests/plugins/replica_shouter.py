"""
title: Shouter
author: pipehouse tests
version: 0.1.0
description: Upper-cases the user's last message before the model sees it. Global, it applies to every model.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict, __user__: dict | None = None) -> dict:
        messages = body.get("messages") or []
        if messages and isinstance(messages[-1].get("content"), str):
            messages[-1]["content"] = messages[-1]["content"].upper()
        return body
