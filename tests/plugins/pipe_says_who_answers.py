"""
title: Says who answers
author: pipehouse tests
description: Answers with its own id, the model the body names, the model it was handed and the inlet trail, so a test can tell which model answered a routed request.
version: 0.1.0
"""


class Pipe:
    async def pipe(self, body: dict, __id__: str = "", __model__: dict | None = None):
        trail = ",".join(body.get("trail", []))
        yield f"{__id__} answers: "
        yield f"model={body.get('model')} __model__={(__model__ or {}).get('id')} trail={trail}"
