"""
title: Greeter with postponed annotations
author: open-webui-community
version: 0.2.1
description: Asks for postponed annotations itself, so its type-checker-only import is fine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from open_webui.models.users import UserModel


class Pipe:
    def pipe(self, body: dict, __user__: UserModel = None) -> str:
        return f"hello {__user__['name']}"
