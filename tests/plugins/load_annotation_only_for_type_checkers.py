"""
title: Greeter typed for the IDE
author: open-webui-community
version: 0.2.0
description: Imports UserModel for type checkers only, so Open WebUI fails to load it.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from open_webui.models.users import UserModel


class Pipe:
    def pipe(self, body: dict, __user__: UserModel = None) -> str:  # raises here
        return f"hello {__user__['name']}"
