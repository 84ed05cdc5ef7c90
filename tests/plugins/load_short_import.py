"""
title: Pre-0.5 short import of an Open WebUI helper
"""

from utils.pipehouse_fixture_helpers import helper


class Pipe:
    def pipe(self, body: dict) -> str:
        return helper()
