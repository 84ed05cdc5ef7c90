"""
title: A sync inlet records the thread it runs on into the body
"""

import threading


class Filter:
    def inlet(self, body: dict) -> dict:
        body["inlet_thread"] = threading.get_ident()
        return body
