"""
title: Asks another model (named by the user's message) through the host, and answers with its reply
"""

from pipehouse.host import generate_chat_completion


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        target, _, question = body["messages"][-1]["content"].partition(" ")
        request = {"model": target, "messages": [{"role": "user", "content": question}]}
        if body.get("stream"):
            frames = await generate_chat_completion({**request, "stream": True}, __user__)
            return "streamed: " + b"".join([frame async for frame in frames]).decode()
        answer = await generate_chat_completion(request, __user__)
        return "asked: " + answer["choices"][0]["message"]["content"]
