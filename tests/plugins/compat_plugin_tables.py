"""
title: Reads the function and tool tables (Functions, Tools) and its own valves, in both styles
"""

import json

from open_webui.models.functions import Functions
from open_webui.models.tools import Tools
from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        greeting: str = "hi"

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict, __id__: str = None) -> str:
        me = await Functions.get_function_by_id(__id__)
        every = Functions.get_functions()  # older sync style
        pipes = await Functions.get_functions_by_type("pipe", active_only=True)
        await Functions.update_function_valves_by_id(__id__, {"greeting": "hello"})
        valves = await Functions.get_function_valves_by_id(__id__)
        toolkit = await Tools.get_tool_by_id("tools_math")
        toolkits = Tools.get_tools()
        try:
            Functions.update_function_valves_by_id(__id__, {"greeting": "x"})  # no await
            refused = None
        except Exception as error:
            refused = str(error)
        return json.dumps(
            {
                "me": [me.id, me.type, me.is_active],
                "every": sorted(f.id for f in every),
                "pipes": sorted(f.id for f in pipes),
                "valves": valves,
                "toolkit": [toolkit.id, [s["name"] for s in toolkit.specs]],
                "toolkits": sorted(t.id for t in toolkits),
                "refused": refused,
                "user_valves": await Tools.get_user_valves_by_id_and_user_id(
                    "tools_math", __user__["id"]
                ),
            }
        )
