"""
title: A filter declaring the injected arguments of every hook; reports them as events
"""

from starlette.requests import Request


def summary(hook, __id__, __user__, __metadata__, __model__, __request__, emitter, caller):
    return {
        "hook": hook,
        "id": __id__,
        "user_id": __user__.get("id"),
        "chat_id": __metadata__.get("chat_id"),
        "model_id": (__model__ or {}).get("id"),
        "request_is_starlette": isinstance(__request__, Request),
        "emitter_callable": callable(emitter),
        "caller_callable": callable(caller),
    }


class Filter:
    def __init__(self):
        self.stream_reported = False

    async def inlet(self, body, __id__, __user__, __metadata__, __model__, __request__,
                    __event_emitter__, __event_call__, __chat_id__, __message_id__,
                    __oauth_token__):
        data = summary("inlet", __id__, __user__, __metadata__, __model__, __request__,
                       __event_emitter__, __event_call__)
        data.update(chat_id_arg=__chat_id__, message_id_arg=__message_id__,
                    oauth_token=__oauth_token__)
        await __event_emitter__({"type": "report", "data": data})
        self.stream_reported = False
        return body

    async def stream(self, event, __id__, __user__, __metadata__, __model__, __request__,
                     __event_emitter__, __event_call__, __body__):
        if not self.stream_reported:
            self.stream_reported = True
            data = summary("stream", __id__, __user__, __metadata__, __model__, __request__,
                           __event_emitter__, __event_call__)
            data["body_model"] = __body__.get("model")
            data["body_has_messages"] = isinstance(__body__.get("messages"), list)
            data["event_is_dict"] = isinstance(event, dict)
            await __event_emitter__({"type": "report", "data": data})
        return event

    async def outlet(self, body, __id__, __user__, __metadata__, __model__, __request__,
                     __event_emitter__, __event_call__):
        data = summary("outlet", __id__, __user__, __metadata__, __model__, __request__,
                       __event_emitter__, __event_call__)
        data["outlet_keys"] = sorted(body)
        data["last_role"] = body["messages"][-1]["role"]
        await __event_emitter__({"type": "report", "data": data})
        return body
