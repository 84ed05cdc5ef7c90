"""
title: Guards a legacy short import, then raises when called
"""

try:
    from utils.misc import get_last_user_message
except ImportError:
    get_last_user_message = None


class Pipe:
    def pipe(self, body: dict) -> str:
        raise ValueError("no user message")  # raises here
