"""nginx's list of directories that hold no entry point comes from Moodle's own layout, checked against a real
tree (opt-in: MOODLE_SRC, and MOODLE_SRC_PREVIOUS for the older layout; docs/IMAGE.md).

Moodle's component scanner names the directories that are never plugins (core_component::$ignoreddirs); of
these nginx refuses every one that holds code, strings or templates, and cli/ besides. The tree then proves
the rule safe: no file under those directories is a page (none requires config.php), except the CLI
scripts, which refuse the web anyway. Read from the files; nothing runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.image.errors_testlib import before_the_fix
from tests.image.image_testlib import IMAGE_DIR
from tests.image.real_moodle import PREVIOUS_SOURCE_VARIABLE, SOURCE_VARIABLE, source_tree

NGINX = (IMAGE_DIR / "nginx" / "nginx.conf").read_text()
SERVED_ON_PURPOSE = {"pix", "fonts"}
"""Ignored by the scanner but linked to by pages: images and fonts."""
NOT_IN_A_RELEASE = {"CVS", "_vti_cnf", "simpletest"}
REFUSED_ELSEWHERE = {"tests"}
"""nginx.conf's rule for internal files refuses these, existing or not."""
SOURCES_ONLY = {"amd": "amd/src", "yui": "yui/src"}
"""Of these only the sources: the built modules are what lib/requirejs.php and theme/yui_combo.php serve."""

PAGE = re.compile(r"require(?:_once)?\s*\(?[^;]*config\.php['\"]\s*\)?\s*;")
CLI_SCRIPT = re.compile(r"define\(\s*'CLI_SCRIPT'\s*,\s*(?:true|1)\s*\)")


def refused_directories(nginx: str) -> set[str]:
    match = re.search(r"location ~ \^\(\?:\(\?!\\\.php/\)\.\)\*/\(\?:([\w/|]+)\)/ \{\s*if \(-e", nginx)
    assert match, "nginx.conf's rule for files that are no entry point"
    return set(match[1].split("|"))


def ignored_directories(tree: Path) -> set[str]:
    component = next(
        path for path in (tree / "public/lib/classes/component.php", tree / "lib/classes/component.php")
        if path.exists()
    )  # fmt: skip
    block = re.search(r"\$ignoreddirs = \[(.*?)\];", component.read_text(), re.DOTALL)
    assert block, "core_component::$ignoreddirs"
    return set(re.findall(r"'([\w]+)' => true", block[1]))


def pages_under(tree: Path, directories: set[str]) -> list[str]:
    """Files under the refused directories that bootstrap Moodle as a page would (CLI scripts aside)."""
    webroot = tree / "public" if (tree / "public").is_dir() else tree
    found = []
    for path in webroot.rglob("*.php"):
        relative = "/" + str(path.relative_to(webroot).parent) + "/"
        if not any(f"/{directory}/" in relative for directory in directories):
            continue
        source = path.read_text(errors="replace")
        if PAGE.search(source) and not CLI_SCRIPT.search(source):
            found.append(str(path.relative_to(webroot)))
    return found


@pytest.mark.parametrize("variable", [SOURCE_VARIABLE, PREVIOUS_SOURCE_VARIABLE])
def test_the_refused_directories_are_moodles_own_non_plugin_directories(variable: str) -> None:
    ignored = ignored_directories(source_tree(variable))
    refused = refused_directories(NGINX)

    expected = {SOURCES_ONLY.get(name, name) for name in ignored - SERVED_ON_PURPOSE - NOT_IN_A_RELEASE}
    assert refused == (expected - REFUSED_ELSEWHERE) | {"cli"}


@pytest.mark.parametrize("variable", [SOURCE_VARIABLE, PREVIOUS_SOURCE_VARIABLE])
def test_no_page_lives_in_a_refused_directory(variable: str) -> None:
    assert pages_under(source_tree(variable), refused_directories(NGINX)) == []


def test_the_page_check_finds_moodles_pages() -> None:
    """Negative control of the scan: a Moodle page is recognised, a CLI script is not counted."""
    page = "<?php\nrequire_once(__DIR__ . '/../../config.php');\n"
    cli = "<?php\ndefine('CLI_SCRIPT', 1);\nrequire(__DIR__ . '/../../config.php');\n"

    assert PAGE.search(page)
    assert not CLI_SCRIPT.search(page)
    assert PAGE.search(cli)
    assert CLI_SCRIPT.search(cli)


def test_the_rule_check_reads_the_directories_of_nginx_conf() -> None:
    """Negative control: nginx.conf without db/ would not match Moodle's list."""
    without_db = before_the_fix(NGINX, "(?:classes|db|", replacement="(?:classes|")

    assert "db" in refused_directories(NGINX)
    assert "db" not in refused_directories(without_db)
