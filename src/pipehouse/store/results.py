"""How many rows a DELETE or UPDATE changed.

`session.execute` is typed to return a `Result`; for a DML statement it is a `CursorResult`,
the only kind that has `rowcount` (SQLAlchemy 2.x)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rows_changed(result: Result[Any]) -> int:
    """The rows the statement behind `result` changed (0 when the driver cannot tell)."""
    return cast(CursorResult[Any], result).rowcount or 0
