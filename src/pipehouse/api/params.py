"""The bounds of the ids and page numbers the API accepts in paths and queries.

Declared once, so every route refuses an over-long id or an absurd page with a 422 naming the
parameter (and says so in `/openapi.json`) before anything reaches the store, the file system or
a plugin: a 10,000-character id would otherwise become a file name the OS refuses, and a page
past 2**63 / page size an offset no database can hold (docs/api.md, "Limits").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from pipehouse.plugin.ids import MAX_PLUGIN_ID_LENGTH

MAX_ID_LENGTH = MAX_PLUGIN_ID_LENGTH  # the longest id the API makes or takes
MAX_PAGE = 1_000_000  # 60 million chats at 60 a page: far past any list, far from 2**63

PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
QueryId = Annotated[str, Query(min_length=1, max_length=MAX_ID_LENGTH)]
# an action's button: `function_id` or `function_id.sub_id`
ActionId = Annotated[str, Path(min_length=1, max_length=2 * MAX_ID_LENGTH + 1)]

Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="from 1")]
# chats and version history read a page below 1 as the first: only the top is bounded there
LenientPage = Annotated[int, Query(le=MAX_PAGE, description="from 1 (lower reads as 1)")]
OptionalPage = Annotated[int | None, Query(le=MAX_PAGE, description="from 1; absent: all")]
