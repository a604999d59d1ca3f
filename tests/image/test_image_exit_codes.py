"""The exit codes the image's commands can return are exactly those of docs/IMAGE.md's table, and the image's
PHP scripts call no function of Moodle's clilib.php without loading it (configure-cache called cli_error(),
which Moodle's bootstrap does not load: PHP's "undefined function" replaced the message about Redis).

Read from the files, without running them; test_image_errors.py and test_image_moodle_errors.py run them.
That the custom resource explains each code of install-or-upgrade is test_image_contract.py's check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.image.errors_testlib import BIN, before_the_fix, documented_exit_codes, php_exit_codes
from tests.image.image_testlib import IMAGE_DIR

PHP_SCRIPTS = sorted(BIN.glob("*.php"))
CONFIG_PHP = IMAGE_DIR / "moodle" / "config.php"


def shell_exit_codes(source: str) -> set[int]:
    constants = re.findall(r"^readonly EXIT_\w+=(\d+)$", source, re.MULTILINE)
    literals = re.findall(r"\bexit (\d+)\b", source)
    return {int(code) for code in [*constants, *literals]}


def codes_of_the_image() -> set[int]:
    codes = shell_exit_codes((BIN / "entrypoint.sh").read_text())
    for path in [*PHP_SCRIPTS, CONFIG_PHP]:
        codes |= php_exit_codes(path.read_text())
    return codes


def test_every_code_the_image_can_return_is_in_the_table_and_every_one_in_the_table_is_used() -> None:
    documented = documented_exit_codes()
    used = codes_of_the_image()

    assert used - set(documented) == set(), "codes the scripts return that docs/IMAGE.md does not explain"
    assert set(documented) - used == set(), "codes docs/IMAGE.md explains that no script returns"


def test_the_table_check_catches_an_undocumented_code() -> None:
    """Negative control: a script that exits 42 would not match the table."""
    source = (BIN / "preflight.php").read_text()
    broken = before_the_fix(source, "const EXIT_DATAROOT_NOT_PREPARED = 8;", replacement="exit(42);")

    assert 42 in php_exit_codes(broken)
    assert 42 not in documented_exit_codes()


MOODLE_CLILIB_CALL = re.compile(r"\b(cli_[a-z_]+)\(")


def clilib_calls_without_clilib(source: str) -> list[str]:
    """Calls of Moodle's clilib.php functions (cli_error, cli_writeln, ...) in a file that never loads it."""
    if "/clilib.php" in source:
        return []
    return MOODLE_CLILIB_CALL.findall(source)


@pytest.mark.parametrize("script", PHP_SCRIPTS, ids=lambda path: path.name)
def test_no_script_calls_clilib_without_loading_it(script: Path) -> None:
    assert clilib_calls_without_clilib(script.read_text()) == []


def test_the_clilib_check_catches_configure_caches_old_call() -> None:
    """Negative control: configure-cache as it was, with clilib's cli_error()."""
    source = (BIN / "configure-cache.php").read_text()
    old = before_the_fix(source, "moodle_image_die(EXIT_CACHE_SETUP_FAILED,", replacement="cli_error(")

    assert clilib_calls_without_clilib(old) == ["cli_error"]
