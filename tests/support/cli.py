"""The `pipehouse` command line as a test runs it: `invoke` in this process (about a second
quicker a command, and measured by coverage directly), `pipehouse` in a child process where the
process is the point (serving on a port, a terminal, Ctrl-C, the `python -m pipehouse` entry
point, the launcher scripts). Both give a `CompletedProcess`: a test reads them alike."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from typer.testing import CliRunner

from pipehouse.cli import main

# Output a test can read: wide lines, no colours.
PLAIN_OUTPUT = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
# The user's environment without pipehouse's own settings.
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("PIPEHOUSE_")},
    **PLAIN_OUTPUT,
}
MODULE = [sys.executable, "-m", "pipehouse"]


def pipehouse(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    cwd: Path | None = None,
    command: list[str] = MODULE,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`command ARGS` in a child process, to its end, output as text; `env` is added to `ENV`."""
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**ENV, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


def invoke(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`pipehouse ARGS` run by this interpreter as `python -m pipehouse` runs it (`cli.main`),
    with what a child process of `pipehouse()` would see and give: the environment without
    PIPEHOUSE_* variables plus `env`, `stdin`, `cwd`, the exit status and both outputs."""
    overrides: dict[str, str | None] = {
        **{k: None for k in os.environ if k.startswith("PIPEHOUSE_")},
        **PLAIN_OUTPUT,
        **(env or {}),
    }
    runner = CliRunner()
    with (
        _process_state_kept(),
        _working_directory(cwd),
        _stdin_piped(stdin.encode()) as piped_stdin,
        _descriptor_captured(1) as fd_stdout,
        _descriptor_captured(2) as fd_stderr,
        runner.isolation(env=overrides) as (sys_stdout, sys_stderr, _),
    ):
        sys.stdin = piped_stdin  # one pipe, as in a process: `--messages /dev/stdin` reads it too
        returncode = _main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        # `run` and `inspect` write their own output to a copy of descriptor 1 (plugins'
        # prints go to stderr), and a plugin's child processes write to the descriptors.
        stdout = sys_stdout.getvalue() + fd_stdout()
        stderr = sys_stderr.getvalue() + fd_stderr()
    return subprocess.CompletedProcess(
        ["pipehouse", *args],
        returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
    )


def _main(args: tuple[str, ...]) -> int:
    """`pipehouse.cli.main()` (a SettingsError: its message, exit status 2) with `args` as its
    command line, and the exit status a process would end with: SystemExit's code, or 1 and the
    traceback for an exception."""
    saved_argv = sys.argv
    sys.argv = ["pipehouse", *args]
    try:
        main()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        sys.argv = saved_argv
    return 0


@contextlib.contextmanager
def _descriptor_captured(fd: int) -> Iterator[Callable[[], bytes]]:
    """What is written to file descriptor `fd` meanwhile: the bytes so far, when called."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile(buffering=0) as captured:

        def written() -> bytes:
            captured.seek(0)
            return captured.read()

        os.dup2(captured.fileno(), fd)
        try:
            yield written
        finally:
            os.dup2(saved, fd)
            os.close(saved)


@contextlib.contextmanager
def _stdin_piped(data: bytes) -> Iterator[TextIO]:
    """File descriptor 0 a pipe that gives `data`, and `sys.stdin` to be read from it."""
    read_end, write_end = os.pipe()
    writer = threading.Thread(target=_write_all, args=(write_end, data), daemon=True)
    writer.start()
    saved = os.dup(0)
    os.dup2(read_end, 0)
    os.close(read_end)
    stream = open(os.dup(0), encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        yield stream
    finally:
        stream.close()
        os.dup2(saved, 0)  # the pipe's last reader gone: a writer still blocked stops
        os.close(saved)
        writer.join()


def _write_all(fd: int, data: bytes) -> None:
    try:
        with open(fd, "wb") as pipe:
            pipe.write(data)
    except BrokenPipeError:  # the command ended without reading it all
        pass


@contextlib.contextmanager
def _working_directory(cwd: Path | None) -> Iterator[None]:
    saved = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _process_state_kept() -> Iterator[None]:
    """What a command changes that outlives it in a process, put back afterwards: the root
    logger (emptied meanwhile, so the app's `logging.basicConfig` writes to the captured
    stderr as in a new process), `sys.excepthook` (Typer sets its own), `sys.path` (plugin
    environments are added to it) and the plugin modules loaded (`sys.modules`)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    hook, path, modules = sys.excepthook, sys.path[:], dict(sys.modules)
    root.handlers = []
    try:
        yield
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = handlers, level
        sys.excepthook = hook
        added_paths = [entry for entry in sys.path if entry and entry not in path]
        sys.path[:] = path
        for name, module in list(sys.modules.items()):
            if module is not modules.get(name) and _a_plugins(module, added_paths):
                if name in modules:
                    sys.modules[name] = modules[name]
                else:
                    del sys.modules[name]


def _a_plugins(module: object, added_paths: list[str]) -> bool:
    """A plugin's own module (made from its source: no import spec), or a package imported from
    an environment the command put on `sys.path`."""
    if getattr(module, "__spec__", None) is None:
        return True
    file = getattr(module, "__file__", None) or ""
    return any(file.startswith(entry) for entry in added_paths)
