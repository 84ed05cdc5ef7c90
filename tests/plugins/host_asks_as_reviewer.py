"""
title: Second Opinion
author: open-webui-community
version: 0.2.0
description: Asks a model once as the reviewer account, then again as whoever is chatting.
"""

from pydantic import BaseModel, Field

from pipehouse.host import generate_chat_completion

REVIEWER = {"id": "reviewer", "email": "reviewer@example.com", "name": "Reviewer", "role": "user"}


class Pipe:
    class Valves(BaseModel):
        MODEL: str = Field(default="host_whoami", description="Model to ask")
        STREAM_REVIEW: bool = Field(default=False, description="Stream the reviewer's answer")

    def __init__(self):
        self.valves = self.Valves()

    async def _ask(self, user=None, stream=False) -> str:
        request = {"model": self.valves.MODEL, "messages": [{"role": "user", "content": "who?"}]}
        if stream:
            frames = await generate_chat_completion({**request, "stream": True}, user)
            return b"".join([frame async for frame in frames]).decode()
        answer = await generate_chat_completion(request, user)
        return answer["choices"][0]["message"]["content"]

    async def pipe(self, body: dict) -> str:
        review = await self._ask(REVIEWER, stream=self.valves.STREAM_REVIEW)
        mine = await self._ask()  # no user: the person chatting
        return f"reviewer: {review}\nme: {mine}"
