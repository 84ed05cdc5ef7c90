"""
title: Pipeline stuck starting up
"""

import asyncio


class Pipeline:
    def __init__(self):
        self.name = "Stuck on startup"

    async def on_startup(self):
        await asyncio.Event().wait()

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return user_message
