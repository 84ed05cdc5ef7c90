"""
title: Manifold stuck listing its models
author: pipehouse tests
version: 0.1.0
description: pipes() asks a model server that never answers.
"""

import asyncio


class Pipe:
    async def pipes(self) -> list[dict]:
        await asyncio.Event().wait()
        return []

    async def pipe(self, body: dict) -> str:
        return "never listed"
