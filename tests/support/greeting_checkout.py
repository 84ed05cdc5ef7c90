"""A source checkout of `pipehouse-fixture-greeting` with its own build backend: no build
requirements, so nothing is downloaded (it installs offline), and a build can be held at the
point where uv has resolved and is building the wheel."""

from __future__ import annotations

from pathlib import Path

GREETING_BACKEND = """
import base64, hashlib, os, time, zipfile

RELEASE = {release!r}
DIST = "pipehouse_fixture_greeting-1.0"
FILES = {{
    "pipehouse_fixture_greeting.py": b"def greet(name):\\n    return f'hello, {{name}}'\\n",
    f"{{DIST}}.dist-info/METADATA": (
        b"Metadata-Version: 2.1\\nName: pipehouse-fixture-greeting\\nVersion: 1.0\\n"
    ),
    f"{{DIST}}.dist-info/WHEEL": (
        b"Wheel-Version: 1.0\\nGenerator: tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    ),
}}


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    deadline = time.monotonic() + 120  # a test that never releases it does not hang forever
    while RELEASE and not os.path.exists(RELEASE) and time.monotonic() < deadline:
        time.sleep(0.05)
    name = f"{{DIST}}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, data in FILES.items():
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{{path}},sha256={{digest.decode()}},{{len(data)}}")
        record.append(f"{{DIST}}.dist-info/RECORD,,")
        wheel.writestr(f"{{DIST}}.dist-info/RECORD", "\\n".join(record) + "\\n")
    return name
"""

GREETING_PYPROJECT = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "pipehouse-fixture-greeting"
version = "1.0"
"""


def write_greeting_checkout(directory: Path, release: Path | None = None) -> None:
    """The source of `pipehouse-fixture-greeting`; with `release`, building its wheel waits
    until that file exists."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(GREETING_PYPROJECT)
    (directory / "backend.py").write_text(
        GREETING_BACKEND.format(release=str(release) if release else None)
    )
