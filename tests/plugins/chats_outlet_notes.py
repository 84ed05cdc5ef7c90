"""
title: A toggle outlet that notes in the body what it was given (for /api/chat/completed)
"""


class Filter:
    def __init__(self):
        self.toggle = True

    async def outlet(self, body: dict, __metadata__: dict, __user__: dict, __model__: dict) -> dict:
        body["seen"] = {
            key: __metadata__.get(key)
            for key in ("chat_id", "message_id", "session_id", "user_id", "filter_ids")
        }
        body["seen"]["user"] = __user__["id"]
        body["seen"]["model"] = __model__["id"]
        body["messages"][-1]["content"] += " (noted)"
        return body
