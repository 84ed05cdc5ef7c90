"""
title: Imports an open_webui name pipehouse does not provide (from a module it does provide)
"""

from open_webui.models.users import Users, UserNameResponse


class Pipe:
    def pipe(self, body: dict) -> str:
        return str(UserNameResponse)
