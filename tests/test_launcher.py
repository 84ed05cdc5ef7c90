"""`./pipehouse` on a fresh clone: the launcher sets up its own venv, then runs any command.

SLOW: the module's fixture builds a venv from nothing in a copy of the checkout, as a new user's
first command does (about a minute; pip's cache and local wheels make it no faster than that).
It is the suite's only test that does, and every test here shares that one build.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import cli

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(900)


def _tracked_copy(target: Path) -> Path:
    """The files a `git clone` would have (as they are in the working tree), nothing else."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    return _tracked_copy(tmp_path_factory.mktemp("clone"))


@pytest.fixture(scope="module")
def first_help(clone: Path) -> subprocess.CompletedProcess[str]:
    """The very first command on the clone: `./pipehouse --help`, which builds .venv."""
    assert not (clone / ".venv").exists()
    return launcher(clone, "--help", timeout=840)


def launcher(clone: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return cli.pipehouse(*args, command=[str(clone / "pipehouse")], cwd=clone, timeout=timeout)


def test_help_on_a_fresh_clone_sets_up_and_shows_the_commands(first_help):
    assert first_help.returncode == 0, first_help.stderr
    assert "InvalidRequirement" not in first_help.stderr
    for command in ("run", "inspect", "new", "serve", "keys"):
        assert command in first_help.stdout
    # the install said what it was doing, on stderr, while stdout stayed the command's own
    assert "installing dependencies" in first_help.stderr
    assert "[1] " in first_help.stderr and "is ready" in first_help.stderr
    assert "pipehouse:" not in first_help.stdout


def test_version_prints_the_version_alone(clone, first_help):
    result = launcher(clone, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("pipehouse 0.")
    assert result.stderr == ""  # nothing installed again


def test_commands_with_different_first_words_do_not_reinstall(clone, first_help):
    ran = launcher(clone, "run", "examples/hello_pipe.py", "hi")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("Hello,")
    described = launcher(clone, "inspect", "examples/word_filter.py")
    assert described.returncode == 0, described.stderr
    assert "kind: filter" in described.stdout
    for result in (ran, described):
        assert "installing" not in result.stderr
        assert "does not provide the extra" not in result.stderr


def test_the_bootstrap_refuses_an_extra_it_does_not_know(clone, first_help):
    result = subprocess.run(
        ["bash", "-c", 'source scripts/bootstrap.sh run && echo "$PH_PY"'],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown extra 'run'" in result.stderr
    assert "installing" not in result.stderr
