"""
title: Loads a toolkit with open_webui.utils.tools.get_tools and calls it
"""

from open_webui.models.users import Users
from open_webui.utils.tools import get_tools


class Pipe:
    async def pipe(self, body: dict, __user__: dict, __request__=None, __event_emitter__=None):
        user = await Users.get_user_by_id(__user__["id"])
        tools = await get_tools(
            __request__,
            ["tools_math", "no_such_toolkit"],
            user,
            {"__user__": __user__, "__event_emitter__": __event_emitter__},
        )
        total = await tools["add"]["callable"](a=2, b=3)
        return f"tools: {sorted(tools)}; 2 + 3 = {total}"
