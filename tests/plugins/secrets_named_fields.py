"""
title: Valves whose names or values are credentials
author: pipehouse tests
description: A database URL with a password, an auth header, client secrets: what a settings
  page must not show.
version: 0.1.0
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        DATABASE_URL: str = Field(default="postgresql://app:pg-pass-7d1e9b3c@db.internal/app")
        AUTH_HEADER: str = Field(default="")
        CLIENT_SECRETS: str = Field(default="")
        GOOGLE_CREDENTIALS_JSON: str = Field(default="")
        BASIC_AUTH: str = Field(default="")
        AUTH_ENABLED: bool = True
        AUTHOR_NAME: str = "Ada"
        REQUEST_TIMEOUT: int = 30

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        raise RuntimeError(
            f"could not connect to {self.valves.DATABASE_URL} with {self.valves.AUTH_HEADER}"
        )
