"""What a plugin is told when it reaches for an Open WebUI internal pipehouse cannot give it."""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import NoReturn

DOCS = "docs/compatibility.md (section 'The open_webui import surface')"


class CompatError(RuntimeError):
    """A supported `open_webui` symbol was used in a way pipehouse cannot serve here."""


class ServerRequired(CompatError):
    """The call needs the database of `pipehouse serve` (the command line has none)."""

    def __init__(self, label: str) -> None:
        super().__init__(
            f"{label}() needs the database of `pipehouse serve`; `pipehouse run` has none. "
            f"Run the plugin on a server to use it; see {DOCS}"
        )


class InlineOnly(CompatError):
    """Plugin code in a worker process reached for an object that lives in the server's process
    (its database engine): it cannot cross, so the plugin must run inline."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} lives in the server's process and cannot cross into the worker process "
            "this plugin runs in (isolated mode). Run the plugin inline: an admin sets it with "
            'POST /api/v1/isolation/<plugin id> and {"mode": "inline"}; see docs/isolation.md '
            "(section 'Modes')"
        )


PIPELINES_DOCS = "docs/compatibility.md (section 'The Pipelines server's modules')"


def unsupported_message(module: str, name: str | None = None) -> str:
    what = f"{module}.{name}" if name else module
    if module.partition(".")[0] != "open_webui":
        return (
            f"pipehouse does not support {what}, a module of the Pipelines server; the names "
            f"of schemas, utils.pipelines and blueprints it provides are listed in "
            f"{PIPELINES_DOCS}"
        )
    return (
        f"pipehouse does not support {what}, an Open WebUI internal; the open_webui names it "
        f"provides are listed in {DOCS}"
    )


def _is_import_from(frame: FrameType | None) -> bool:
    """True when `frame` is executing `from module import name` right now."""
    if frame is None:
        return False
    current = None
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset > frame.f_lasti:
            break
        current = instruction.opname
    return current == "IMPORT_FROM"


_HERE = str(Path(__file__).resolve().parent)


def _outside_caller(frame: FrameType | None) -> FrameType | None:
    """The first frame that is not pipehouse's compat code (a module `__getattr__` of a shim may
    hand over to the one made here)."""
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back
    return frame


def missing_names(module: str, reasons: dict[str, str] | None = None) -> Callable[[str], NoReturn]:
    """A module `__getattr__` for names pipehouse does not provide: `from m import x` raises an
    ImportError naming `x`; attribute access (and so `hasattr`/`getattr(m, x, None)`) raises
    AttributeError with the same message, so version probes keep working. `reasons` gives a
    name a message of its own."""

    def __getattr__(name: str) -> NoReturn:
        if name.startswith("__"):  # the import system probes __path__, __all__ ...
            raise AttributeError(f"module '{module}' has no attribute '{name}'")
        message = (reasons or {}).get(name) or unsupported_message(module, name)
        if _is_import_from(_outside_caller(sys._getframe(1))):
            raise ImportError(message, name=module)
        raise AttributeError(message)

    return __getattr__
