"""
title: Valves with select options, static and computed
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        size: str = Field(default="m", json_schema_extra={"input": {"options": ["s", "m", "l"]}})
        layout: str = Field(
            default="grid",
            json_schema_extra={"input": {"type": "radio", "options": ["grid", "list"]}},
        )
        model: str = Field(default="", json_schema_extra={"input": {"options": "model_options"}})
        voice: str = Field(default="", json_schema_extra={"input": {"options": "voice_options"}})
        broken: str = Field(default="", json_schema_extra={"input": {"options": "broken_options"}})
        mapping: str = Field(default="", json_schema_extra={"input": {"options": "dict_options"}})
        missing: str = Field(default="", json_schema_extra={"input": {"options": "no_such_method"}})
        plain: str = "no widget"

        @classmethod
        def model_options(cls, __user__: dict | None = None) -> list:
            if __user__ is None:
                return ["default-model"]
            return [{"value": f"{__user__['role']}-model", "label": __user__["name"]}]

        @classmethod
        def voice_options(cls, user: dict | None = None) -> list:
            return [f"voice-of-{user['id']}"] if user else ["any-voice"]

        @classmethod
        def broken_options(cls) -> list:
            raise RuntimeError("options service is down")

        @classmethod
        def dict_options(cls) -> dict:
            return {"a": "A"}

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return self.valves.size
