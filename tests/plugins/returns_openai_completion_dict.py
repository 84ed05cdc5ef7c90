"""
title: Returns an OpenAI chat.completion dict
"""


class Pipe:
    async def pipe(self, body: dict) -> dict:
        return {
            "id": "chatcmpl-from-the-pipe",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "upstream-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "from a completion dict"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15},
        }
