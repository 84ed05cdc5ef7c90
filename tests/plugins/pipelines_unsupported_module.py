"""
title: Pipeline needing the Pipelines server's auth helpers
author: pipehouse tests
version: 0.1
"""

from utils.pipelines.auth import get_current_user


class Pipeline:
    def __init__(self):
        self.name = "Needs auth"

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return str(get_current_user)
