"""
title: Manifold pipeline
"""


class Pipeline:
    def __init__(self):
        self.type = "manifold"
        self.name = "Acme: "
        self.pipelines = [{"id": "small", "name": "Small"}, {"id": "large", "name": "Large"}]

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return model_id
