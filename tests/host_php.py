"""The host's PHP may lint and nothing else: every PHP the tests execute runs in the image (image/Dockerfile).

The host's PHP is another version with other extensions than the image's (Debian bookworm's 8.2 without
zip on a fresh CI machine, the image's 8.4 with it): a test that runs PHP on the host tests something that
does not ship, and passes or fails by what someone installed by hand. `forbid_host_php` (autouse for the
whole session, tests/conftest.py) makes every process the tests start pass `host_php_runs` first; `php -l`
is the one exception (tests/image/test_image_lint.py).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import PurePath
from typing import Any

import pytest

PHP = re.compile(r"php(\d+(\.\d+)?)?")
"""`php`, `php8.2`, `php84`: the names Debian gives the PHP CLI."""
CONTAINER_TOOLS = frozenset({"podman", "buildah"})
"""What they run, runs in a container."""
SHELLS = frozenset({"sh", "bash", "dash", "zsh"})
WRAPPERS = frozenset(
    {"env", "exec", "command", "nice", "nohup", "setsid", "stdbuf", "time", "timeout", "flock", "xargs"}
)
"""Commands that run a command given among their arguments."""
SEPARATORS = re.compile(r"[;&|()<>]+")


class HostPhpError(AssertionError):
    pass


def script_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, leading variable assignments dropped (well enough to find a
    command name: quoting is honoured, expansions are not)."""
    lexer = shlex.shlex(script.replace("\n", ";"), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if SEPARATORS.fullmatch(token):
            commands.append([])
        elif commands[-1] or not re.match(r"^\w+=", token):
            commands[-1].append(token)
    return [command for command in commands if command]


def shell_script(argv: Sequence[str]) -> str | None:
    """The script of `sh -c SCRIPT` (also `-ec`, `-euc`, ...)."""
    for index, argument in enumerate(argv[1:-1], start=1):
        if argument.startswith("-") and not argument.startswith("--") and "c" in argument:
            return argv[index + 1]
    return None


def host_php_runs(argv: Sequence[str]) -> list[str]:
    """The host PHP runs other than `php -l` that starting `argv` would make, as shell words."""
    if not argv:
        return []
    name = PurePath(argv[0]).name
    if name in CONTAINER_TOOLS:
        return []
    if PHP.fullmatch(name):
        return [] if argv[1:2] == ["-l"] else [shlex.join(argv)]
    if name in SHELLS:
        script = shell_script(argv)
        return (
            [run for command in script_commands(script) for run in host_php_runs(command)] if script else []
        )
    if name in WRAPPERS:
        # The wrapped command is the first argument that names one we look into (options, assignments,
        # durations and lock files come before it).
        for index, argument in enumerate(argv[1:], start=1):
            if looked_into(PurePath(argument).name):
                return host_php_runs(argv[index:])
    return []


def looked_into(name: str) -> bool:
    return bool(PHP.fullmatch(name)) or name in SHELLS | CONTAINER_TOOLS | WRAPPERS


def command_line(args: Any, *, shell: bool) -> list[str]:
    """What Popen runs for `args`: with `shell`, the shell and its script."""
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    argv = [os.fsdecode(argument) for argument in args]
    return ["/bin/sh", "-c", *argv] if shell else argv


def check(args: Any, *, shell: bool = False) -> None:
    runs = host_php_runs(command_line(args, shell=shell))
    if runs:
        raise HostPhpError(
            f"a test ran the host's PHP: {'; '.join(runs)}. The host's PHP (another version, other "
            "extensions) may only lint (php -l); run PHP in the image or its build stage instead "
            "(tests/image/container.py: run_container, the fake_build_stage fixture)."
        )


@pytest.fixture(scope="session", autouse=True)
def forbid_host_php() -> Iterator[None]:
    """Every process the tests start (subprocess and os.system alike) is checked before it starts."""
    popen_init = subprocess.Popen.__init__
    system = os.system

    def checked_init(self: subprocess.Popen[Any], args: Any, *positional: Any, **options: Any) -> None:
        check(args, shell=bool(options.get("shell")))
        popen_init(self, args, *positional, **options)

    def checked_system(command: Any) -> int:
        check(command, shell=True)
        return system(command)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", checked_init)
        patch.setattr(os, "system", checked_system)
        yield
