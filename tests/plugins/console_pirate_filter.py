"""
title: Pirate Speak
author: pipehouse tests
version: 1.0.0
description: A switch in the chat: when on, the user's last message is said like a pirate.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()
        self.toggle = True  # shown as a switch; runs only when the user turns it on
        self.icon = "data:image/svg+xml;base64,PHN2Zy8+"

    async def inlet(self, body: dict) -> dict:
        last = body["messages"][-1]
        last["content"] = f"Arr, {last['content']}, matey"
        return body
