"""
title: Imports a package without declaring it
"""

import pipehouse_fixture_absent_pkg


class Pipe:
    def pipe(self, body: dict) -> str:
        return pipehouse_fixture_absent_pkg.answer()
