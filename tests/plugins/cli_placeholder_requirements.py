"""
title: Template Pipe
author: your-name
version: 0.0.1
requirements: package1,package2  # Optional
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return "a template someone published as it was"
