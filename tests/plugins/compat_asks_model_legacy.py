"""
title: Asks another model the older way (Users without await, main.generate_chat_completions)
description: The first word of the message names the model, the rest is the question.
"""

from main import generate_chat_completions  # pre-0.5 short import: open_webui.main
from open_webui.models.users import Users


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        target, _, question = body["messages"][-1]["content"].partition(" ")
        user = Users.get_user_by_id(__user__["id"])  # the 0.5/0.6 sync call, inside async code
        if user is None:
            return "no such user"
        payload = {"model": target, "messages": [{"role": "user", "content": question}]}
        response = await generate_chat_completions(form_data=payload, user=user)
        return f"{user.name} asked: " + response["choices"][0]["message"]["content"]
