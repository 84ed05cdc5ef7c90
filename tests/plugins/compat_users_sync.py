"""
title: Looks users up from sync code (a worker thread), as 0.5/0.6-era plugins did
"""

import json

from open_webui.models.users import Users


class Pipe:
    def pipe(self, body: dict, __user__: dict) -> str:
        me = Users.get_user_by_id(__user__["id"])
        by_email = Users.get_user_by_email(__user__["email"].upper())
        nobody = Users.get_user_by_id("no-such-user")
        listed = Users.get_users()
        return json.dumps(
            {
                "me": me.model_dump(include={"id", "email", "name", "role"}),
                "same": by_email is not None and by_email.id == me.id,
                "nobody_is_none": nobody is None,
                "listed": sorted(u.email for u in listed["users"]),
                "total": listed["total"],
                "avatar": me.profile_image_url,
            }
        )
