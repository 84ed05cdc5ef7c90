"""
title: A Pipelines manifold with a `pipelines` list
"""


class Pipeline:
    def __init__(self):
        self.type = "manifold"
        self.name = "PL: "
        self.pipelines = [{"id": "small", "name": "Small"}, {"id": "large", "name": "Large"}]

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return f"model_id={model_id} body.model={body['model']}"
