"""title: Plain pipeline
author: pipehouse tests
requirements: pydantic>=2
"""


class Pipeline:
    def __init__(self):
        self.name = "Plain pipeline (instance name)"

    async def on_startup(self):
        pass

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return __name__
