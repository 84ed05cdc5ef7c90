"""
title: Caller Info
author: pipehouse tests
author_url: https://github.com/example/caller-info
version: 1.2.0
license: MIT
description: Answers with who is calling, as audit and rate-limit plugins read it from the
  request: the client's address, the request id, headers and state.
"""

import json
import os

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        TRUST_FORWARDED_FOR: bool = Field(
            default=False, description="Take the address from X-Forwarded-For (behind a proxy)."
        )

    def __init__(self):
        self.valves = self.Valves()

    def _client_ip(self, request) -> str:
        forwarded = request.headers.get("x-forwarded-for")
        if self.valves.TRUST_FORWARDED_FOR and forwarded:
            return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def pipe(self, body: dict, __request__) -> str:
        client = __request__.client
        return json.dumps(
            {
                "pid": os.getpid(),
                "ip": self._client_ip(__request__),
                "client_host": client.host if client else None,
                "client_port": client.port if client else None,
                "request_id": getattr(__request__.state, "request_id", None),
                "direct": getattr(__request__.state, "direct", False),
                "user_agent": __request__.headers.get("user-agent"),
                "query": dict(__request__.query_params),
            }
        )
