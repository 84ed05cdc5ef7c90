"""Installing a plugin's requirements for real, into a scratch environment (needs the package
index; without it these tests skip, or fail under CI=true)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from pipehouse.plugin.requirements import (
    RequirementsInstallError,
    install_requirements,
    parse_requirements,
)


@pytest.fixture(scope="module")
def scratch_python(tmp_path_factory) -> str:
    target = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = str(target / "bin" / "python")
    try:  # one real install up front tells whether the package index can be reached
        asyncio.run(install_requirements(parse_requirements("six==1.16.0"), python=python))
    except RequirementsInstallError as exc:
        message = f"the package index is not reachable, installs cannot be tested: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return python


async def test_install_puts_the_declared_version_into_the_target_environment(scratch_python):
    lines: list[str] = []
    await install_requirements(
        parse_requirements("six==1.16.0"), python=scratch_python, on_output=lines.append
    )
    version = subprocess.run(
        [scratch_python, "-c", "import six; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version == "1.16.0"
    assert lines, "the installer's progress is shown to the user"


async def test_a_requirement_that_cannot_be_installed_says_what_failed(scratch_python):
    with pytest.raises(RequirementsInstallError) as failure:
        await install_requirements(
            parse_requirements("pipehouse-no-such-package-anywhere==9.9.9"), python=scratch_python
        )
    assert "pipehouse-no-such-package-anywhere" in str(failure.value)
    assert failure.value.output


async def test_a_requirement_that_would_change_pipehouses_own_dependencies_is_refused(
    scratch_python,
):
    # pipehouse's own dependencies are passed as constraints: a plugin asking for another
    # orjson than the one pipehouse runs on must fail instead of replacing it.
    from importlib.metadata import version

    other = "3.9.0" if version("orjson") != "3.9.0" else "3.9.1"
    with pytest.raises(RequirementsInstallError) as failure:
        await install_requirements(parse_requirements(f"orjson=={other}"), python=scratch_python)
    assert "orjson" in failure.value.output
