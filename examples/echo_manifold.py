"""
title: Echo Manifold
author: pipehouse
version: 0.1.0
description: One plugin, several models: echoes your message in upper case, lower case or reversed.
license: MIT
"""

# A *manifold* is a pipe that offers several models at once. Give the Pipe class a `pipes`
# method (or a plain list attribute) returning `{"id", "name"}` entries, and every entry becomes
# a model in the list:
#
#     model id:   "<plugin id>.<entry id>"      e.g. "echo_manifold.upper"
#     model name: self.name + entry name        e.g. "Echo: " + "Upper case"
#
# The name is a plain concatenation, so put any separator (": ") in `self.name` yourself.
# All the models share one `pipe()` method, which tells them apart by `body["model"]`.

from typing import Optional

from pydantic import BaseModel, Field


# The transforms this manifold offers, keyed by sub-model id.
TRANSFORMS = {
    "upper": ("Upper case", str.upper),
    "lower": ("Lower case", str.lower),
    "reverse": ("Reversed", lambda text: text[::-1]),
}


class Pipe:
    class Valves(BaseModel):
        enable_reverse: bool = Field(
            default=True,
            description="Offer the 'Reversed' model (the model list changes at its next refresh).",
        )

    def __init__(self):
        self.valves = self.Valves()
        # Prefix of every sub-model's display name.
        self.name = "Echo: "

    # Called each time the model list is refreshed, with `self.valves` already set, so the list
    # may depend on the valves (a real provider manifold would ask its API for models here,
    # using an API key valve). It may be `def` or `async def`; if it raises, the manifold simply
    # shows no models and the error is logged.
    def pipes(self) -> list[dict]:
        return [
            {"id": sub_id, "name": label}
            for sub_id, (label, _) in TRANSFORMS.items()
            if sub_id != "reverse" or self.valves.enable_reverse
        ]

    # A pipe may also just return a string: Open WebUI turns it into one answer whether the
    # request streams or not. Returning a string is the most common style of all.
    async def pipe(self, body: dict, __user__: Optional[dict] = None) -> str:
        # Open WebUI passes the model id as the user picked it, e.g. "echo_manifold.upper";
        # it does not strip the plugin id, so do it here. (Open WebUI requires plugin ids to be
        # Python identifiers, so the first "." is always the separator.)
        model = body.get("model", "")
        sub_id = model.split(".", 1)[1] if "." in model else model
        if sub_id not in TRANSFORMS or (sub_id == "reverse" and not self.valves.enable_reverse):
            # An exception is shown to the user as the error of this message.
            raise ValueError(f"Echo Manifold has no model '{sub_id}'")
        _, transform = TRANSFORMS[sub_id]

        text = ""
        for message in reversed(body.get("messages", [])):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):  # text plus images: keep the text parts
                    content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                text = content if isinstance(content, str) else ""
                break
        if not text:
            return "(nothing to echo: send a message first)"
        return transform(text)
