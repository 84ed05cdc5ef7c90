"""
title: Looks users up the 0.12.4 way, and changes a setting
"""

import json

from open_webui.models.users import Users


class Pipe:
    async def pipe(self, body: dict, __user__: dict) -> str:
        me = await Users.get_user_by_id(__user__["id"])
        nobody = await Users.get_user_by_id("no-such-user")
        updated = await Users.update_user_settings_by_id(me.id, {"ui": {"theme": "dark"}})
        many = await Users.get_users_by_user_ids([me.id, "no-such-user"])
        return json.dumps(
            {
                "me": me.email,
                "nobody_is_none": nobody is None,
                "theme": updated.settings.ui["theme"],
                "many": [u.id for u in many],
            }
        )
