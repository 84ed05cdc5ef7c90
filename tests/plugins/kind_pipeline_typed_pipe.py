"""
title: Pipeline that says type = "pipe"
"""


class Pipeline:
    def __init__(self):
        self.type = "pipe"

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return user_message
