"""
title: Streams chunks it builds with openai_chat_chunk_message_template
"""

from open_webui.utils.misc import get_last_user_message, openai_chat_chunk_message_template


class Pipe:
    async def pipe(self, body: dict):
        model = body["model"]
        for word in get_last_user_message(body["messages"]).split():
            yield openai_chat_chunk_message_template(model, word.upper() + " ")
        yield openai_chat_chunk_message_template(model)  # the finish chunk
