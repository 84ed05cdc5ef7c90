"""
title: Word count
"""

from pydantic import BaseModel


class Action:
    class Valves(BaseModel):
        unit: str = "words"

    class UserValves(BaseModel):
        shout: bool = False

    def __init__(self):
        self.valves = self.Valves()

    async def action(self, body: dict, __user__: dict, __event_emitter__, __model__: dict, __id__):
        text = body["messages"][-1]["content"]
        count = len(text.split())
        await __event_emitter__(
            {"type": "status", "data": {"description": "counting", "done": False}}
        )
        await __event_emitter__(
            {"type": "message", "data": {"content": f"\n\n{count} {self.valves.unit}"}}
        )
        note = f"{count} {self.valves.unit}"
        if __user__["valves"].shout:
            note = note.upper()
        await __event_emitter__({"type": "notification", "data": {"type": "info", "content": note}})
        await __event_emitter__(
            {"type": "status", "data": {"description": "counted", "done": True}}
        )
        return {
            "count": count,
            "id": __id__,
            "user": __user__["email"],
            "model": __model__["id"],
            "model_actions": [a["id"] for a in __model__["actions"]],
            "chat_id": body.get("chat_id"),
            "message_id": body.get("id"),
            "keys": sorted(body),
        }
