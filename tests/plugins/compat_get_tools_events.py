"""
title: Loads a toolkit with get_tools, passing its own emitter, and reports what the tool saw
"""

import json
import os

from open_webui.utils.tools import get_tools


class Pipe:
    async def pipe(
        self,
        body: dict,
        __user__: dict,
        __request__=None,
        __event_emitter__=None,
        __metadata__=None,
    ) -> str:
        tools = await get_tools(
            __request__,
            ["tools_with_valves"],
            __user__,
            {
                "__user__": __user__,
                "__event_emitter__": __event_emitter__,
                "__metadata__": __metadata__ or {},
                "__messages__": body["messages"],
            },
        )
        entry = tools["report"]
        seen = await entry["callable"](topic="cats", count=2)
        return json.dumps(
            {
                "pid": os.getpid(),
                "tool_id": entry["tool_id"],
                "spec": entry["spec"]["name"],
                "doc": entry["callable"].__doc__,
                "citation": entry["metadata"]["citation"],
                "seen": seen,
            }
        )
