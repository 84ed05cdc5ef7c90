"""
title: A plain Pipelines-format pipe (sync, returns a str)
"""

import json


class Pipeline:
    def __init__(self):
        self.name = "Plain pipeline"

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return json.dumps(
            {
                "user_message": user_message,
                "model_id": model_id,
                "messages": messages,
                "user": body.get("user"),
                "has_metadata": "metadata" in body,
                "trail": body.get("trail", []),
            }
        )
