"""
title: Imports an Open WebUI internal pipehouse does not provide
"""

# A made-up module path, so the test stays true whatever open_webui surface pipehouse grows.
from open_webui.pipehouse_fixture_internal import helper


class Pipe:
    def pipe(self, body: dict) -> str:
        return helper()
