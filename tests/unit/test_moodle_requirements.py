"""The Moodle branches the project runs: their PHP and MySQL needs, the platform, and the configuration."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from moodle_infra import database, moodle_requirements
from moodle_infra.config import ConfigError, load_config
from moodle_infra.moodle_requirements import BranchRequirements, Platform

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = json.loads((ROOT / "cdk.json").read_text())["context"]["moodle"]


def version_of(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def test_the_platform_is_the_images_php_and_the_databases_mysql() -> None:
    dockerfile = (ROOT / "image" / "Dockerfile").read_text()
    php_versions = set(re.findall(r"^ARG PHP_VERSION=(\S+)$", dockerfile, re.MULTILINE))

    assert {version_of(version) for version in php_versions} == {moodle_requirements.PLATFORM.php}
    assert version_of(database.ENGINE_MAJOR_VERSION) == moodle_requirements.PLATFORM.mysql


def test_the_platform_runs_every_branch_in_the_table() -> None:
    assert moodle_requirements.supported_branches() == ["5.0", "5.1", "5.2", "5.3"]
    assert moodle_requirements.supported_branches() == list(moodle_requirements.REQUIREMENTS)


def test_a_platform_short_of_a_branchs_needs_is_told_what_it_lacks() -> None:
    """Negative control: the check is not always empty."""
    needs_more = BranchRequirements(
        php_minimum=(8, 5), php_maximum=(8, 5), mysql_minimum=(9, 0), upgrades_from="5.1"
    )

    assert moodle_requirements.unmet(needs_more) == [
        "it needs PHP 8.5 to 8.5, the image has PHP 8.4",
        "it needs MySQL 9.0 or newer, RDS runs MySQL 8.4",
    ]
    # Debian bookworm's PHP 8.2 with MySQL 8.0 would run none of them; with MySQL 8.4 only 5.0 and 5.1.
    assert moodle_requirements.supported_branches(Platform(php=(8, 2), mysql=(8, 0))) == []
    assert moodle_requirements.supported_branches(Platform(php=(8, 2), mysql=(8, 4))) == ["5.0", "5.1"]


def with_version(version: str) -> dict[str, Any]:
    raw = json.loads(json.dumps(SHIPPED))
    raw["moodle_release"]["version"] = version
    return raw


@pytest.mark.parametrize("version", ["5.3", "5.3.1", "5.1.6", "5.0.6"])
def test_any_release_of_a_supported_branch_can_be_configured(version: str) -> None:
    assert load_config(with_version(version)).moodle_release.build_args()["MOODLE_VERSION"] == version


@pytest.mark.parametrize(
    "version",
    [
        pytest.param("5.3.0", id="a first release named with .0, which has no archive"),
        pytest.param("4.5.2", id="a branch the image's PHP 8.4 does not run"),
        pytest.param("6.0", id="a branch the table does not know"),
        pytest.param("latest", id="not a release number"),
    ],
)
def test_other_releases_are_refused_naming_the_branches_allowed(version: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(with_version(version))

    assert str(raised.value).splitlines()[1:] == [
        '  - moodle.moodle_release.version: must be a Moodle release number like "5.1.6" (the first release '
        'of a branch is "5.3", not "5.3.0", as Moodle names its archive moodle-5.3.tgz) of a branch whose '
        "PHP and MySQL requirements the image and RDS meet: 5.0, 5.1, 5.2, 5.3 "
        f'(moodle_infra/moodle_requirements.py), got "{version}"'
    ]


def test_a_53_release_takes_its_branchs_language_packs() -> None:
    raw = with_version("5.3")
    raw["moodle_release"]["language_packs"] = [{"code": "de", "sha256": "0" * 64}]

    packs = json.loads(load_config(raw).moodle_release.build_args()["MOODLE_LANGUAGE_PACKS"])

    assert packs[0]["url"] == "https://download.moodle.org/download.php/direct/langpack/5.3/de.zip"


def environment_file(variable: str) -> Path:
    tree = os.environ.get(variable)
    if not tree:
        pytest.skip(f"set {variable} to a Moodle tree to check the table against its environment.xml")
    candidates = [Path(tree) / "public" / "admin", Path(tree) / "admin"]
    found = next(
        (path / "environment.xml" for path in candidates if (path / "environment.xml").exists()), None
    )
    assert found, f"{tree} has no admin/environment.xml"
    return found


@pytest.mark.parametrize("variable", ["MOODLE_SRC", "MOODLE_SRC_PREVIOUS"])
def test_the_table_says_what_a_real_trees_environment_xml_says(variable: str) -> None:
    """Each branch the tree's file describes (5.1.6's holds 5.0 to 5.3) matches the table."""
    listed = {
        element.get("version", ""): element
        for element in ET.parse(environment_file(variable)).getroot().findall("MOODLE")
    }
    compared = sorted(set(listed) & set(moodle_requirements.REQUIREMENTS))

    assert compared, f"the file describes none of {list(moodle_requirements.REQUIREMENTS)}"
    for branch in compared:
        element, wanted = listed[branch], moodle_requirements.REQUIREMENTS[branch]
        php = element.find("PHP")
        mysql = element.find("DATABASE/VENDOR[@name='mysql']")
        assert php is not None and mysql is not None, branch
        assert version_of(php.get("version", "")) == wanted.php_minimum, branch
        assert version_of(mysql.get("version", "")) == wanted.mysql_minimum, branch
        assert element.get("requires") == wanted.upgrades_from, branch
