"""Every reference in the repository can be followed from the repository: comments, docstrings and
docs cite Open WebUI's source (file and version) or a page in docs/, never a document kept
elsewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the forms the citations of documents outside this repository took (a one-letter class in each
# word, so that this file is no such citation to a search for them)
ELSEWHERE = re.compile(
    r"\b(?:re[f]|re[f]erence)(?: sectio[n])? §?\d|re[f] §|\bsee[d] \d|\bDESIG[N]\b|\bshare[d]/|"
    r"pipelines-serve[r]\.md|plugin-ecosystem-censu[s]|openwebui-0\.12\.4-plugin-behaviou[r]|"
    r"\b(?i:sectio[n]) \d|\b[R]eference \d"
)
# A bare section number of such a document in a comment (`# N.N: ...`, `(N.N)`, `(N.N "Leak")`,
# `N.N item 4`, with digits for N). Only a `.py` file's comments are read for these: code has
# numbers of its own.
SECTION = re.compile(r"(?:#\s*|\(|, )[1-9]\.[0-9]{1,2}(?=[:,)]| /| item| process_line| \")")


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
        if path.suffix not in (".py", ".md"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            comment = line[line.find("#") :] if path.suffix == ".py" and "#" in line else ""
            if ELSEWHERE.search(line) or SECTION.search(comment):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
