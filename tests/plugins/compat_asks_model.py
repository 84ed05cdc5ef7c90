"""
title: Asks another model the Open WebUI 0.12.4 way (await Users..., await generate_chat_completion)
description: The first word of the message names the model, the rest is the question.
"""

import json

from open_webui.models.users import UserModel, Users
from open_webui.utils.chat import generate_chat_completion
from open_webui.utils.misc import get_last_user_message


class Pipe:
    async def pipe(self, body: dict, __user__: dict, __request__=None) -> str:
        target, _, question = get_last_user_message(body["messages"]).partition(" ")
        user = await Users.get_user_by_id(__user__["id"])
        assert isinstance(user, UserModel), user
        form = {
            "model": target,
            "messages": [{"role": "user", "content": question}],
            "stream": bool(body.get("stream")),
        }
        response = await generate_chat_completion(__request__, form, user=user)
        if isinstance(response, dict):
            return f"asked as {user.role}: " + response["choices"][0]["message"]["content"]
        text = ""
        async for chunk in response.body_iterator:
            line = chunk.decode("utf-8").strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[len("data: ") :])
            for choice in data.get("choices") or []:
                text += choice.get("delta", {}).get("content") or ""
        return f"streamed as {user.role}: " + text
