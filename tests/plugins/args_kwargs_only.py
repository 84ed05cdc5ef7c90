"""
title: A pipe with **kwargs receives nothing beyond body
"""

import json


class Pipe:
    async def pipe(self, body: dict, **kwargs) -> str:
        return json.dumps({"kwargs": sorted(kwargs), "has_body": isinstance(body, dict)})
