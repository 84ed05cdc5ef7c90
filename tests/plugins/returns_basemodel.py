"""
title: Returns a pydantic model shaped like an OpenAI ChatCompletion (as SDK objects are)
"""

from pydantic import BaseModel


class Message(BaseModel):
    role: str = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: Message
    finish_reason: str = "stop"


class ChatCompletion(BaseModel):
    id: str = "chatcmpl-sdk-object"
    object: str = "chat.completion"
    created: int = 1700000000
    model: str = "sdk-model"
    choices: list[Choice]


class Pipe:
    async def pipe(self, body: dict) -> ChatCompletion:
        return ChatCompletion(choices=[Choice(message=Message(content="from a model object"))])
