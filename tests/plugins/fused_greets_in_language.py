"""
title: Greeter
author: pipehouse tests
version: 0.1.0
description: Greets in the language a filter put in the metadata, after a status line.
"""

GREETINGS = {"fr": "Bonjour !", "en": "Hello!"}


class Pipe:
    async def pipe(self, body: dict, __metadata__: dict, __event_emitter__) -> str:
        language = __metadata__.get("language", "unknown")
        await __event_emitter__({"type": "status", "data": {"description": "greeting"}})
        return GREETINGS.get(language, f"no greeting for {language}")
