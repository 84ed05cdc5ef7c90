"""Every reference in the repository can be followed from the repository: comments, docstrings and
docs cite Open WebUI's source (file and version) or a page in docs/, never a document kept
elsewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the forms the citations of documents outside this repository took
ELSEWHERE = re.compile(
    r"\b(?:ref|reference)(?: section)? §?\d|ref §|\bseed \d|\bDESIGN\b|\bshared[/]|"
    r"pipelines-server\.md|plugin-ecosystem-census|openwebui-0\.12\.4-plugin-behaviour"
)


def test_no_reference_points_outside_the_repository():
    listed = subprocess.run(
        ["git", "ls-files", "src", "tests", "docs", "bench", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found = []
    for name in listed:
        path = ROOT / name
        if path.suffix not in (".py", ".md") or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ELSEWHERE.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
