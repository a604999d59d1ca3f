"""The guard that keeps the host's PHP to `php -l` (tests/host_php.py), with its negative controls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.host_php import HostPhpError, command_line, host_php_runs


@pytest.mark.parametrize(
    ("args", "shell"),
    [
        pytest.param(["php", "image/build/install-plugins.php", "/tree", "/lang"], False, id="a script"),
        pytest.param(["/usr/bin/php8.2", "-r", "echo 1;"], False, id="a versioned path"),
        pytest.param(["php", "-d", "display_errors=1", "-l", "x.php"], False, id="options before -l"),
        pytest.param(["bash", "-c", "php -r 'echo 1;'"], False, id="in bash -c"),
        pytest.param(["sh", "-ec", "cd /tmp && php helper.php"], False, id="in sh -ec after cd"),
        pytest.param(["env", "MOODLE_PLUGINS=[]", "php", "helper.php"], False, id="under env"),
        pytest.param(["timeout", "60", "php", "helper.php"], False, id="under timeout"),
        pytest.param("MOODLE_PLUGINS='[]' php helper.php", True, id="shell=True with an assignment"),
        pytest.param("php -l a.php; php b.php", True, id="shell=True after a lint"),
        pytest.param(Path("/usr/bin/php"), False, id="a bare path"),
    ],
)
def test_the_guard_refuses_host_php_that_does_more_than_lint(args: object, shell: bool) -> None:
    assert host_php_runs(command_line(args, shell=shell))


@pytest.mark.parametrize(
    ("args", "shell"),
    [
        pytest.param(["php", "-l", "image/moodle/config.php"], False, id="php -l"),
        pytest.param(
            ["podman", "run", "--rm", "img", "php", "-r", "echo 1;"], False, id="php in a container"
        ),
        pytest.param(["bash", "-c", "podman exec c php -r 1"], False, id="php in a container, from bash"),
        pytest.param("php -l a.php && echo php", True, id="shell=True lint, php as a word"),
        pytest.param(["git", "-C", "/repo", "status"], False, id="anything else"),
        pytest.param(["phpcs", "x.php"], False, id="another tool whose name starts with php"),
    ],
)
def test_the_guard_lets_php_lint_and_containers_through(args: object, shell: bool) -> None:
    assert host_php_runs(command_line(args, shell=shell)) == []


def test_the_guard_is_on_in_this_session() -> None:
    """The guard stops the process before it starts, with or without PHP on the host."""
    with pytest.raises(HostPhpError, match=r"a test ran the host's PHP: php -r 'echo 1;'\. .* may only lint"):
        subprocess.run(["php", "-r", "echo 1;"], check=False)
    with pytest.raises(HostPhpError):
        subprocess.check_output("php -r 'echo 1;'", shell=True)
    with pytest.raises(HostPhpError):
        os.system("php -r 'echo 1;'")
