"""
title: URL Checker
author: pipehouse tests
description: Says whether the prompt is a URL. Imports validators, which Open WebUI itself
  installs, without declaring it (as many community tools do).
version: 0.2.0
"""

import validators


class Pipe:
    def pipe(self, body: dict) -> str:
        text = body["messages"][-1]["content"].strip()
        return "a URL" if validators.url(text) is True else "not a URL"
