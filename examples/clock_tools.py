"""
title: Clock Tools
author: pipehouse
version: 0.1.0
description: Offline tools for the model: the current time, date arithmetic and unit conversion.
license: MIT
"""

# A *Tools* plugin (a "toolkit") gives the model functions it may call. Every public method of
# the `Tools` class (one whose name does not start with "_") becomes a tool, described to the
# model from:
#
#   - the method name                      -> the tool's name
#   - the docstring, up to the first ":param" -> what the tool does
#   - the type hints and defaults          -> the JSON schema of its arguments
#   - ":param name: text" lines            -> what each argument means
#
# So write those carefully: they are the model's only documentation. Parameters whose names
# start with "__" (`__user__`, `__event_emitter__`, ...) are filled in by the host and never
# shown to the model. Return a string (dicts and lists are sent to the model as JSON).
# Sync methods run on Open WebUI's event loop, so keep them quick; use `async def` for waiting.

from datetime import date, datetime, timedelta, timezone
from typing import Awaitable, Callable, Optional

from pydantic import BaseModel, Field


# (factor to the base unit, base unit) for each linear unit.
_LINEAR_UNITS = {
    "mm": (0.001, "m"),
    "cm": (0.01, "m"),
    "m": (1.0, "m"),
    "km": (1000.0, "m"),
    "in": (0.0254, "m"),
    "ft": (0.3048, "m"),
    "yd": (0.9144, "m"),
    "mi": (1609.344, "m"),
    "g": (0.001, "kg"),
    "kg": (1.0, "kg"),
    "lb": (0.45359237, "kg"),
    "oz": (0.028349523125, "kg"),
    "ml": (0.001, "l"),
    "l": (1.0, "l"),
    "gal": (3.785411784, "l"),
}
_TEMPERATURES = ("c", "f", "k")


class Tools:
    class Valves(BaseModel):
        time_format: str = Field(
            default="%Y-%m-%d %H:%M:%S",
            description="strftime format of the times the tools report.",
        )
        max_days: int = Field(
            default=36600, ge=1, description="Largest number of days date arithmetic accepts."
        )

    class UserValves(BaseModel):
        utc_offset_hours: float = Field(
            default=0.0, ge=-14, le=14, description="Your time zone, as hours ahead of UTC."
        )

    def __init__(self):
        self.valves = self.Valves()

    async def get_current_time(
        self,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
    ) -> str:
        """
        Get the current date and time, in UTC and in the user's time zone.
        """
        now = datetime.now(timezone.utc)
        user_valves = (__user__ or {}).get("valves")
        offset = user_valves.utc_offset_hours if user_valves is not None else 0.0
        local = now.astimezone(timezone(timedelta(hours=offset)))
        fmt = self.valves.time_format
        result = f"UTC: {now.strftime(fmt)}; user's time (UTC{offset:+g}): {local.strftime(fmt)}"
        if __event_emitter__:
            # Tools can show progress too; a status with done=True is shown as finished.
            await __event_emitter__(
                {
                    "type": "status",
                    "data": {"description": f"Checked the clock: {result}", "done": True},
                }
            )
        return result

    def add_days(self, start_date: str, days: int) -> str:
        """
        Add (or, with a negative number, subtract) a number of days to a date, and tell the
        weekday of the result.
        :param start_date: The date to start from, as YYYY-MM-DD, or "today".
        :param days: How many days to add; negative to go back in time.
        :return: The resulting date and its weekday.
        """
        if abs(days) > self.valves.max_days:
            # Tool errors are best returned as text the model can read and act on.
            return f"Error: at most {self.valves.max_days} days at a time."
        try:
            start = (
                datetime.now(timezone.utc).date()
                if start_date.strip().lower() == "today"
                else date.fromisoformat(start_date.strip())
            )
        except ValueError:
            return f"Error: '{start_date}' is not a date in the form YYYY-MM-DD."
        result = start + timedelta(days=days)
        return f"{start.isoformat()} {days:+d} days = {result.isoformat()} ({result:%A})"

    def convert_units(self, value: float, from_unit: str, to_unit: str) -> str:
        """
        Convert a quantity between units of length, mass, volume or temperature.
        Units: mm, cm, m, km, in, ft, yd, mi; g, kg, lb, oz; ml, l, gal; C, F, K.
        :param value: The quantity to convert.
        :param from_unit: The unit of the value, e.g. "km" or "F".
        :param to_unit: The unit wanted, e.g. "mi" or "C".
        """
        source, target = from_unit.strip().lower(), to_unit.strip().lower()
        if source in _TEMPERATURES and target in _TEMPERATURES:
            kelvin = {"c": value + 273.15, "f": (value - 32) * 5 / 9 + 273.15, "k": value}[source]
            result = {"c": kelvin - 273.15, "f": (kelvin - 273.15) * 9 / 5 + 32, "k": kelvin}[
                target
            ]
        elif source in _LINEAR_UNITS and target in _LINEAR_UNITS:
            (to_base, base), (from_base, other_base) = _LINEAR_UNITS[source], _LINEAR_UNITS[target]
            if base != other_base:
                return f"Error: cannot convert {from_unit} to {to_unit}."
            result = value * to_base / from_base
        else:
            return f"Error: unknown unit in '{from_unit}' -> '{to_unit}'."
        return f"{value:g} {from_unit} = {result:.6g} {to_unit}"
