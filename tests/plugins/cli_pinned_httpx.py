"""
title: Old HTTPX Pipe
author: pipehouse tests
version: 1.0.0
requirements: httpx==0.27.0
"""

import httpx


class Pipe:
    def pipe(self, body: dict) -> str:
        return f"httpx {httpx.__version__}"
