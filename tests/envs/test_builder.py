"""The step an admin sees while an environment installs, read from uv's own output lines (as
`uv pip install --target` prints them with UV_NO_PROGRESS, one message per line)."""

from __future__ import annotations

import pytest

from pipehouse.envs.builder import step_of

# What uv 0.13 printed installing pyfiglet==1.0.2, and a source package, into a fresh target
SUMMARIES = [
    ("Resolved 1 package in 158ms", "resolved: Resolved 1 package in 158ms"),
    ("Prepared 1 package in 53ms", "downloaded: Prepared 1 package in 53ms"),
    ("Prepared 1 package in 3.09s", "downloaded: Prepared 1 package in 3.09s"),
    ("Installed 1 package in 27ms", "installed: Installed 1 package in 27ms"),
    ("Audited 3 packages in 2ms", "installed: Audited 3 packages in 2ms"),
    ("Checked 1 package in 1ms", "installed: Checked 1 package in 1ms"),  # uv 0.13
]

# Lines between the summaries: kept in the progress, but not a step
DETAILS = [
    "Using CPython 3.11.7 interpreter at: /work/main/.venv/bin/python",
    "Downloading pyfiglet (1.0MiB)",
    " Downloaded pyfiglet",
    "Building pipehouse-fixture-greeting @ file:///tmp/greeting",
    "Built pipehouse-fixture-greeting @ file:///tmp/greeting",
    " + pyfiglet==1.0.2",
    "error: Distribution not found at: file:///tmp/greeting",
    "",
]


@pytest.mark.parametrize(("line", "step"), SUMMARIES)
def test_a_summary_line_becomes_the_step_quoting_it(line, step):
    assert step_of(line) == step


@pytest.mark.parametrize("line", DETAILS)
def test_other_lines_are_no_step(line):
    assert step_of(line) is None
