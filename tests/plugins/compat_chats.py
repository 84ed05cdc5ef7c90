"""
title: Reads and annotates the chat it answers in (Chats), in both call styles
"""

import json

from open_webui.models.chats import Chat, ChatModel, Chats


class Pipe:
    async def pipe(self, body: dict, __chat_id__: str = None, __user__: dict = None) -> str:
        chat = await Chats.get_chat_by_id(__chat_id__)
        legacy = Chats.get_chat_by_id(__chat_id__)  # older sync style, inside async code
        await Chats.upsert_message_to_chat_by_id_and_message_id(
            __chat_id__, "note-1", {"role": "assistant", "content": "noted", "parentId": None}
        )
        note = await Chats.get_message_by_id_and_message_id(__chat_id__, "note-1")
        mine = await Chats.get_chats_by_user_id(__user__["id"])
        try:
            Chats.update_chat_title_by_id(__chat_id__, "renamed")  # a write without await
            refused = None
        except Exception as error:
            refused = str(error)
        return json.dumps(
            {
                "is_model": isinstance(chat, ChatModel),
                "title": chat.title,
                "same": legacy.id == chat.id,
                "note": note["content"],
                "mine": [c.id for c in mine],
                "missing_is_none": await Chats.get_chat_by_id("no-such-chat") is None,
                "refused": refused,
                "table": Chat.__tablename__,
            }
        )
