"""
title: Plain action
"""


class Action:
    actions = [{"id": "summarize", "name": "Summarize"}, {"id": "translate", "name": "Translate"}]

    async def action(self, body: dict) -> dict:
        return {"content": __name__}
