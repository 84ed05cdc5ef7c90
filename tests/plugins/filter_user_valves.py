"""
title: A filter with UserValves; records what __user__ holds into body["seen_valves"]
"""

from pydantic import BaseModel


class Filter:
    class UserValves(BaseModel):
        flavour: str = "plain"

    async def inlet(self, body: dict, __user__: dict, __id__: str) -> dict:
        valves = __user__.get("valves")
        body.setdefault("seen_valves", []).append(
            {"id": __id__, "has_valves": "valves" in __user__,
             "valves": valves.model_dump() if valves is not None else None,
             "type": type(valves).__name__}
        )
        return body
