"""
title: An outlet that rewrites the assistant's answer
"""


class Filter:
    async def outlet(self, body: dict) -> dict:
        last = body["messages"][-1]
        last["content"] = "edited: " + last["content"]
        return body
