"""
title: Vision Router
author: pipehouse tests
description: Sends messages that carry an image to a vision-capable model; every other message stays with the chosen model.
version: 0.2.0
"""

from typing import Optional

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=0, description="Filter order (lower runs first).")
        vision_model_id: str = Field(
            default="", description="The model that answers messages with images."
        )
        skip_reroute_models: list[str] = Field(
            default_factory=list, description="Models that can read images themselves."
        )
        status: bool = Field(default=True, description="Say which model the message went to.")

    def __init__(self):
        self.valves = self.Valves()

    def _has_image(self, message: dict) -> bool:
        if message.get("images"):
            return True
        content = message.get("content")
        if isinstance(content, list):
            return any(isinstance(p, dict) and p.get("type") == "image_url" for p in content)
        return False

    async def inlet(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __model__: Optional[dict] = None,
        __event_emitter__=None,
    ) -> dict:
        model_id = (__model__ or {}).get("id") or body.get("model")
        if not self.valves.vision_model_id or model_id == self.valves.vision_model_id:
            return body
        if model_id in self.valves.skip_reroute_models:
            return body
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        if not users or not self._has_image(users[-1]):
            return body
        body["model"] = self.valves.vision_model_id
        if self.valves.status and __event_emitter__:
            await __event_emitter__(
                {
                    "type": "status",
                    "data": {
                        "description": f"Request routed to {self.valves.vision_model_id}",
                        "done": True,
                    },
                }
            )
        return body
