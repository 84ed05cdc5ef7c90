"""
title: Secret prefix leaks
author: pipehouse tests
description: Quotes the first 12 characters of its stored key in its error, "to help debugging".
version: 0.1.0
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        api_key: str = Field(default="", description="Service key")

    class UserValves(BaseModel):
        personal_token: str = Field(default="", description="Your own token")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: dict):
        token = __user__["valves"].personal_token
        message = f"key {self.valves.api_key[:12]}... rejected; your token {token[:10]}... expired"
        if body.get("stream"):
            return self._stream(message)
        raise PermissionError(message)

    def _stream(self, message):
        yield "Checking... "
        raise PermissionError(message)
