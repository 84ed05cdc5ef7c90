"""
title: CLI missing requirement
requirements: pipehouse-fixture-not-a-real-package>=1.0
"""

import pipehouse_fixture_not_a_real_package  # noqa: F401


class Pipe:
    def pipe(self, body: dict) -> str:
        return "unreachable"
