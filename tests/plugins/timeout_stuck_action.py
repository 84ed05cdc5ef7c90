"""
title: Share action stuck on an upload
author: pipehouse tests
version: 0.1.0
description: Its upload never finishes.
"""

import asyncio


class Action:
    async def action(self, body: dict, __event_emitter__=None):
        await asyncio.Event().wait()
