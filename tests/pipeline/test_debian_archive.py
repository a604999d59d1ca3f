"""The Debian archive's order of versions and its Packages indices (pipeline/debian_archive.py), with the
host's own dpkg as the judge of the order."""

import itertools
import json
import shutil
import subprocess

import pytest

from moodle_infra.image_pins import PINS_FILE
from pipeline.debian_archive import compare_versions, newest_versions, stanzas

TRICKY = (
    "1.0", "1.0-1", "1.0-1+b1", "1.0-1+deb13u1", "1.0-1+deb13u10", "1.0-1+deb13u2", "1.0~rc1-1", "1.0~~-1",
    "1.0a-1", "1.0+dfsg-1", "1:0.9-1", "2:0.1", "1.00-1", "1.0.0-1", "8.4.16-1~deb13u1", "8.4.16-1",
    "8.4.11-1", "3.5.1-1", "3.5.1-1+deb13u1", "3.5.10-1", "0.0", "10", "9", "1.2-3-4", "1.2-3-5",
)  # fmt: skip


def dpkg_order(left: str, right: str) -> int:
    for relation, result in (("lt", -1), ("eq", 0)):
        if subprocess.run(["dpkg", "--compare-versions", left, relation, right], check=False).returncode == 0:
            return result
    return 1


@pytest.fixture(scope="module")
def versions() -> list[str]:
    """The tricky cases and the real versions the image pins (epochs, +bN, +debNNuN, ~ in revisions)."""
    pinned = json.loads(PINS_FILE.read_text())["packages"].values()
    return sorted(set(TRICKY) | set(pinned))


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg (every Debian host has it)")
def test_the_order_is_dpkgs(versions: list[str]) -> None:
    pairs = list(itertools.combinations(TRICKY, 2)) + list(itertools.pairwise(versions))
    disagreements = [
        (left, right, compare_versions(left, right), dpkg_order(left, right))
        for left, right in pairs
        if compare_versions(left, right) != dpkg_order(left, right)
    ]
    assert len(pairs) > 400
    assert disagreements == []


def test_tilde_sorts_before_the_release_and_security_updates_after() -> None:
    assert compare_versions("1.0~rc1-1", "1.0-1") < 0
    assert compare_versions("3.5.1-1+deb13u1", "3.5.1-1") > 0
    assert compare_versions("1:0.9-1", "2.0-1") > 0
    assert compare_versions("1.00-1", "1.0-1") == 0


def test_a_version_dpkg_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="no Debian package version"):
        compare_versions("1.0 beta", "1.0")


PACKAGES = """\
Package: libssl3t64
Source: openssl
Version: 3.5.1-1
Architecture: amd64
Description: Secure Sockets Layer toolkit
 continuation line: Version: 9.9

Package: nginx
Version: 1.26.3-3
Architecture: amd64
"""
SECURITY = """\
Package: libssl3t64
Source: openssl
Version: 3.5.1-1+deb13u1
Architecture: amd64
"""


def test_stanzas_read_single_line_fields_only() -> None:
    found = list(stanzas(PACKAGES))
    assert [fields["Package"] for fields in found] == ["libssl3t64", "nginx"]
    assert found[0]["Version"] == "3.5.1-1"


def test_the_newest_version_across_the_release_and_its_security_archive_wins() -> None:
    assert newest_versions([PACKAGES, SECURITY]) == {"libssl3t64": "3.5.1-1+deb13u1", "nginx": "1.26.3-3"}
    assert newest_versions([SECURITY, PACKAGES]) == {"libssl3t64": "3.5.1-1+deb13u1", "nginx": "1.26.3-3"}
