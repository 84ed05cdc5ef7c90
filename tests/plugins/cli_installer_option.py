"""
title: Private Index Pipe
author: pipehouse tests
version: 0.2.0
requirements: --index-url=http://127.0.0.1:9/simple, requests
"""

import requests  # noqa: F401


class Pipe:
    def pipe(self, body: dict) -> str:
        return "unreachable"
