"""
title: Who Am I
author: open-webui-community
version: 0.1.0
description: Answers with the email of the user it runs for.
"""


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        return __user__["email"]
