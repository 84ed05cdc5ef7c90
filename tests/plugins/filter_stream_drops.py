"""
title: A stream hook that drops every chunk mentioning "secret" (by returning None)
"""


class Filter:
    def stream(self, event: dict):
        for choice in event.get("choices") or []:
            if "secret" in ((choice.get("delta") or {}).get("content") or ""):
                return None
        return event
