"""Plugin environments: the packages a plugin needs beyond pipehouse's own, built by the server.

Each distinct requirement set gets one directory under `<data dir>/envs/<key>/`, installed by
uv with `--target` and pipehouse's installed versions as constraints, so an environment only
ever adds packages (docs/isolation.md).
"""

from pipehouse.envs.errors import EnvironmentBuildError
from pipehouse.envs.manager import Environments
from pipehouse.envs.spec import EnvironmentSpec
from pipehouse.envs.state import EnvState

__all__ = ["EnvState", "EnvironmentBuildError", "EnvironmentSpec", "Environments"]
