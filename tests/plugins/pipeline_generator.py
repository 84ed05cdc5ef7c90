"""
title: A Pipelines-format pipe returning a sync generator
"""


class Pipeline:
    def pipe(self, user_message: str, model_id: str, messages: list, body: dict):
        def words():
            for word in ("echo: ", user_message):
                yield word

        return words()
