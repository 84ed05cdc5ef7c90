"""
title: Sync toolkit
"""

import threading


class Tools:
    def where(self) -> dict:
        """Which thread runs this tool."""
        return {
            "thread": threading.get_ident(),
            "main": threading.current_thread() is threading.main_thread(),
        }
