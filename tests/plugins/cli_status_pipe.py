"""
title: CLI status pipe
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        prefix: str = "echo"
        repeat: int = 1

    class UserValves(BaseModel):
        suffix: str = ""

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict, __event_emitter__):
        await __event_emitter__(
            {"type": "status", "data": {"description": "thinking hard", "done": False}}
        )
        last = body["messages"][-1]["content"]
        roles = ",".join(m["role"] for m in body["messages"])
        suffix = __user__["valves"].suffix
        for _ in range(self.valves.repeat):
            yield f"{self.valves.prefix}: {last}{suffix} [{roles}]"
        await __event_emitter__(
            {"type": "status", "data": {"description": "all done", "done": True}}
        )
