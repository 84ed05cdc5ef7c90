"""
title: Imports a package it declares but that is not installed
requirements: pipehouse-fixture-absent-pkg>=1.0
"""

import pipehouse_fixture_absent_pkg


class Pipe:
    def pipe(self, body: dict) -> str:
        return pipehouse_fixture_absent_pkg.answer()
