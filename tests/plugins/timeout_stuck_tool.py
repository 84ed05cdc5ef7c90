"""
title: Search toolkit stuck on a search
author: pipehouse tests
version: 0.1.0
description: Its search engine never answers.
"""

import asyncio


class Tools:
    async def search(self, query: str) -> str:
        """
        Search the web.
        :param query: what to look for
        """
        await asyncio.Event().wait()
        return "never"
