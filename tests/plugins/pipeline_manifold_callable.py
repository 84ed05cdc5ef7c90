"""
title: A Pipelines manifold whose `pipelines` is a method
"""


class Pipeline:
    def __init__(self):
        self.type = "manifold"
        self.name = "Callable: "

    def pipelines(self):
        return [{"id": "m1", "name": "Model One"}]

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return f"model_id={model_id}"
