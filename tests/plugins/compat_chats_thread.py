"""
title: Renames the chat it answers in from sync code (a worker thread), where writes need no await
"""

from open_webui.models.chats import Chats


class Pipe:
    def pipe(self, body: dict, __chat_id__: str = None) -> str:
        Chats.update_chat_title_by_id(__chat_id__, "Renamed from a thread")
        return Chats.get_chat_title_by_id(__chat_id__)
