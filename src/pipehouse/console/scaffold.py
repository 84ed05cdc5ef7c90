"""`pipehouse new KIND NAME`: a working, commented starting file for a plugin."""

from __future__ import annotations

from pathlib import Path

KINDS = ("pipe", "filter", "action", "tools")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def new_plugin(kind: str, name: str, directory: Path) -> Path:
    """Write `<directory>/<name>.py` from the template of `kind`; never overwrites a file."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    stem = name.removesuffix(".py")
    target = directory / f"{stem}.py"
    if target.exists():
        raise FileExistsError(f"{target} already exists; choose another name")
    template = (TEMPLATES / f"{kind}.py").read_text(encoding="utf-8")
    title = stem.replace("_", " ").replace("-", " ").strip().title() or kind.title()
    target.write_text(template.replace("{{title}}", title), encoding="utf-8")
    return target
