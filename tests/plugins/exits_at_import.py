"""
title: Pipe that exits at import without its key
author: pipehouse tests
version: 0.1.0
description: Checks its environment at import and calls sys.exit() when the key is missing.
"""

import os
import sys

if not os.environ.get("PIPEHOUSE_TESTS_NEVER_SET_THIS_KEY"):
    sys.exit("PIPEHOUSE_TESTS_NEVER_SET_THIS_KEY is not set")


class Pipe:
    def pipe(self, body: dict) -> str:
        return "never served"
