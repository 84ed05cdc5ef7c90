"""Environments as a data dir holds them: built once per requirement set (also when several
processes ask), reused after a restart, refused clearly when they would replace a package
pipehouse runs on or need a registry while offline, pruned when asked."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from importlib.metadata import version
from types import SimpleNamespace

import pytest
from filelock import FileLock

from pipehouse.envs import Environments, EnvironmentSpec, host
from tests.support.greeting_checkout import write_greeting_checkout

FIGLET = EnvironmentSpec.of(["PyFiglet == 1.0.2"])


def figlet_version(site) -> str:
    """What a process with the environment on its path imports."""
    code = "import sys, pyfiglet; print(pyfiglet.__version__)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


async def test_built_once_for_everyone_asking_and_reused_after_a_restart(tmp_path):
    environments = Environments(tmp_path)
    first = environments.ensure(FIGLET, "banner")
    second = environments.ensure(EnvironmentSpec.of(["pyfiglet==1.0.2"]), "other_banner")
    assert second is first  # the same normalised set: one build, shared
    built = await environments.wait(first.key)
    assert built.state == "ready" and built.plugins == ["banner", "other_banner"]
    assert any("+ pyfiglet==1.0.2" in line for line in built.progress)
    assert figlet_version(environments.site(first.key)) == "1.0.2"

    restarted = Environments(tmp_path)  # a new server process on the same data dir
    again = restarted.ensure(FIGLET, "banner")
    assert again.state == "ready" and again.created == built.created  # nothing rebuilt
    assert [s.key for s in restarted.list()] == [first.key]


@pytest.fixture
def new_host(monkeypatch):
    """Changes what pipehouse runs on as `host_digest` sees it (read afresh after each)."""

    def change(what: str) -> None:
        if what == "interpreter":
            version_info = SimpleNamespace(major=sys.version_info.major, minor=99)
            running = SimpleNamespace(
                implementation=sys.implementation, version_info=version_info, path=sys.path
            )
            monkeypatch.setattr(host, "sys", running)
        else:  # pipehouse's own pinned packages: one upgraded
            pins = host.constraints_text().replace("pydantic==", "pydantic==9")
            monkeypatch.setattr(host, "constraints_text", lambda: pins)
        host.host_digest.cache_clear()

    yield change
    monkeypatch.undo()
    host.host_digest.cache_clear()


@pytest.mark.parametrize("change", ["interpreter", "host pins", "requirements"])
async def test_rebuilt_when_the_interpreter_or_pins_change_and_only_then(
    tmp_path, new_host, change
):
    """A local source checkout, offline: nothing downloaded."""
    checkout = tmp_path / "greeting"
    write_greeting_checkout(checkout)
    requirements = [f"pipehouse-fixture-greeting @ {checkout.as_uri()}"]
    root = tmp_path / "envs"
    environments = Environments(root, offline=True)
    built = await environments.wait(environments.ensure(EnvironmentSpec.of(requirements)).key)
    assert built.state == "ready"

    same = Environments(root, offline=True).ensure(EnvironmentSpec.of(requirements))
    assert (same.key, same.state, same.created) == (built.key, "ready", built.created)

    if change == "requirements":  # the plugin pins another source of its package
        moved = tmp_path / "greeting-2"
        shutil.copytree(checkout, moved)
        requirements = [f"pipehouse-fixture-greeting @ {moved.as_uri()}"]
    else:
        new_host(change)
    restarted = Environments(root, offline=True)
    state = restarted.ensure(EnvironmentSpec.of(requirements))
    assert state.key != built.key and state.state != "ready"  # not reused: built anew
    rebuilt = await restarted.wait(state.key)
    assert rebuilt.state == "ready" and rebuilt.created > built.created
    assert any("+ pipehouse-fixture-greeting" in line for line in rebuilt.progress)
    # the old one is never used again: for another host, pruned as stale; else merely unused
    stale = [] if change == "requirements" else [built.key]
    assert restarted.prune() == stale


async def test_waits_for_another_process_building_the_same_environment(tmp_path):
    (tmp_path / ".locks").mkdir()
    other_process = FileLock(tmp_path / ".locks" / f"{FIGLET.key}.lock")
    other_process.acquire()
    environments = Environments(tmp_path)
    state = environments.ensure(FIGLET)
    await asyncio.sleep(0)  # let the build task reach the lock
    while "another pipehouse process" not in state.step:
        await asyncio.sleep(0.05)
    assert state.state == "queued"
    other_process.release()
    assert (await environments.wait(FIGLET.key)).state == "ready"


async def test_two_replicas_sharing_a_data_dir_build_an_environment_once(tmp_path, caplog):
    """Two servers on one data dir asking at the same moment: one installs, the other waits for
    it and uses what it built; a server with a data dir of its own builds its own."""
    caplog.set_level("INFO", logger="pipehouse.envs.manager")
    a, b = Environments(tmp_path / "shared"), Environments(tmp_path / "shared")
    first, second = a.ensure(FIGLET, "banner"), b.ensure(FIGLET, "banner")
    built = await asyncio.gather(a.wait(first.key), b.wait(second.key))
    assert [state.state for state in built] == ["ready", "ready"]
    assert built[0].created == built[1].created
    installs = [
        r
        for r in caplog.records
        if r.getMessage().startswith(f"environment {FIGLET.key} installing")
    ]
    assert len(installs) == 1

    own = Environments(tmp_path / "own")
    assert (await own.wait(own.ensure(FIGLET, "banner").key)).state == "ready"
    assert figlet_version(own.site(FIGLET.key)) == "1.0.2"


async def test_a_requirement_that_would_replace_a_host_package_names_both_versions(tmp_path):
    environments = Environments(tmp_path)
    state = environments.ensure(EnvironmentSpec.of(["pydantic<2"]))
    failed = await environments.wait(state.key)
    assert failed.state == "failed"
    assert failed.error.startswith("pydantic<2 cannot be installed beside pipehouse")
    assert f"runs on pydantic=={version('pydantic')}" in failed.error
    assert failed.progress  # the installer's own words are kept too
    # failed in this run: it stays failed until a retry is asked for
    assert environments.ensure(EnvironmentSpec.of(["pydantic<2"])) is failed


async def test_offline_never_reaches_a_registry_and_names_the_missing_package(tmp_path):
    environments = Environments(tmp_path, offline=True)
    spec = EnvironmentSpec.of(["pipehouse-fixture-only-online==1.0"])
    failed = await environments.wait(environments.ensure(spec).key)
    assert failed.state == "failed"
    assert "PIPEHOUSE_OFFLINE is set and pipehouse-fixture-only-online is not in" in failed.error


async def test_prune_removes_failed_and_unused_environments(tmp_path):
    environments = Environments(tmp_path)
    ready = await environments.wait(environments.ensure(FIGLET).key)
    broken = EnvironmentSpec.of(["pipehouse-fixture-no-such-distribution"])
    await environments.wait(environments.ensure(broken).key)
    assert environments.prune() == [broken.key]  # failed: gone; ready: kept
    assert environments.prune(keep={ready.key}) == []
    assert environments.prune(keep=set()) == [ready.key]
    assert environments.list() == [] and not environments.site(ready.key).exists()


def test_a_key_from_outside_names_no_path_outside_the_root(tmp_path):
    assert Environments(tmp_path / "envs").state("../../etc") is None
