"""
title: Declares requirements and imports the missing one only when called
requirements: pydantic>=2, pipehouse-fixture-absent-pkg>=1.0
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        import pipehouse_fixture_absent_pkg

        return pipehouse_fixture_absent_pkg.answer()
