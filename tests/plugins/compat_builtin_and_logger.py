"""
title: Feature Report
author: pipehouse tests
version: 0.2.0
description: Reports what Open WebUI's built-in tools and workspace models offer, and logs
  through Open WebUI's InterceptHandler, as community plugins set up their logging.
"""

import json
import logging

from open_webui.routers.models import get_models
from open_webui.utils.logger import InterceptHandler, start_logger
from open_webui.utils.tools import get_builtin_tools

log = logging.getLogger("feature_report")
log.propagate = False
log.addHandler(InterceptHandler())
log.setLevel(logging.INFO)


class Pipe:
    async def pipe(self, body: dict, __user__: dict, __request__=None) -> str:
        start_logger()
        log.info("reporting for %s", __user__["name"])
        builtin = await get_builtin_tools(
            __request__, {"__user__": __user__}, features={"web_search": True}, model={}
        )
        models = await get_models(user=__user__)
        legacy = get_models(user=__user__)  # older sync style
        return json.dumps(
            {"builtin": builtin, "models": [models.items, models.total], "legacy": legacy.total}
        )
