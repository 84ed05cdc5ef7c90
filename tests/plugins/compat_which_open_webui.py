"""
title: Says which open_webui package it imported
"""

import open_webui
from open_webui.models.users import Users


class Pipe:
    def pipe(self, body: dict) -> str:
        return f"{open_webui.__name__} {getattr(open_webui, 'ORIGIN', 'pipehouse')} {Users!r}"
