"""
title: Asks first
"""


class Action:
    async def action(self, body: dict, __event_call__) -> dict:
        confirm = {"type": "confirmation", "data": {"title": "Sure?", "message": "Go on?"}}
        sure = await __event_call__(confirm)
        if sure is not True:
            return {"cancelled": True, "answer": sure}
        name = await __event_call__({"type": "input", "data": {"title": "Name", "message": "Who?"}})
        return {"hello": name}
