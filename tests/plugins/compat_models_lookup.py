"""
title: Looks its model up in Open WebUI's workspace models, falling back when there is none
"""

from open_webui.models.models import ModelForm, Models


class Pipe:
    async def pipe(self, body: dict) -> str:
        custom = await Models.get_model_by_id(body["model"])
        legacy = Models.get_model_by_id(body["model"])
        system = custom.params.model_dump().get("system") if custom else "no workspace model"
        try:
            Models.insert_new_model(ModelForm(id="x", name="X", meta={}, params={}), "user")
            refused = "not refused"
        except Exception as error:
            refused = str(error)
        return f"{system}; legacy={legacy}; {refused}"
