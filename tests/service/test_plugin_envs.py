"""Which environment a plugin loads in, decided from its `requirements:` line before its code
runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipehouse.envs import Environments
from pipehouse.plugin.errors import PluginError
from pipehouse.service.plugin_envs import PluginEnvironments

PRIVATE_INDEX = '''"""
title: Private Index Pipe
requirements: requests, --index-url=http://127.0.0.1:9/simple
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return "unreachable"
'''


def test_an_installer_option_is_refused_by_name_before_any_environment_is_built(tmp_path: Path):
    root = tmp_path / "envs"
    environments = PluginEnvironments(Environments(root, offline=True))
    with pytest.raises(PluginError) as refused:
        environments.resolve("private_index", PRIVATE_INDEX)
    assert refused.value.error_type == "InvalidRequirement"
    assert "'--index-url=http://127.0.0.1:9/simple'" in refused.value.message
    assert "'requests'" not in refused.value.message
    assert not root.exists() or not any(root.iterdir())  # no environment started
