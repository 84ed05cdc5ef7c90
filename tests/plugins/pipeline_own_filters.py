"""
title: A Pipelines pipe with its own inlet and outlet
"""


class Pipeline:
    async def inlet(self, body: dict, user: dict) -> dict:
        body.setdefault("trail", []).append("own")
        return body

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return "trail=" + ",".join(body.get("trail", []))

    async def outlet(self, body: dict, user: dict) -> dict:
        body["messages"][-1]["content"] += "<own>"
        return body
