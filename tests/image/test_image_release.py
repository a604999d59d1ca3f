"""The Dockerfile's release step, in real builds: download, checksum, unpack, composer.

A wrong or missing checksum must fail the build: unverified code never becomes an image.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.image.conftest import write_composer_files
from tests.image.container import Build, ReleaseArchive, build_image, checkout_tag, pack_release

# The session's image build has already made the layers these builds share.
pytestmark = [pytest.mark.container, pytest.mark.usefixtures("fake_image")]

TAG = checkout_tag("release-step")


def build(release_url: str, release: ReleaseArchive, **build_args: str) -> Build:
    return build_image(
        tag=TAG, release_url=f"{release_url}/{release.path.name}", release=release, build_args=build_args
    )


def test_wrong_checksum_fails_the_build(fake_release: ReleaseArchive, release_url: str) -> None:
    result = build(release_url, fake_release, MOODLE_SHA256="0" * 64)

    assert result.result.returncode != 0
    assert "sha256sum: WARNING: 1 computed checksum did NOT match" in result.output


@pytest.mark.parametrize("checksum", ["", "not-a-checksum"])
def test_missing_checksum_fails_before_downloading(
    fake_release: ReleaseArchive, release_url: str, checksum: str
) -> None:
    result = build(release_url, fake_release, MOODLE_SHA256=checksum)

    assert result.result.returncode != 0
    assert "build argument MOODLE_SHA256 must be the SHA-256" in result.output
    assert "Downloading Moodle 5.1.6 from" not in result.output


def test_invalid_version_fails_the_build(fake_release: ReleaseArchive, release_url: str) -> None:
    result = build(release_url, fake_release, MOODLE_VERSION="latest")

    assert result.result.returncode != 0
    assert "build argument MOODLE_VERSION must be a Moodle release" in result.output


@pytest.mark.parametrize(
    ("version", "archive"),
    [
        ("5.1.6", "stable501/moodle-5.1.6.tgz"),
        # The first release of a branch has no ".0" (docs/IMAGE.md, "Moodle 5.3 LTS").
        ("5.3", "stable503/moodle-5.3.tgz"),
    ],
)
def test_default_url_is_the_release_on_download_moodle_org(
    fake_release: ReleaseArchive, version: str, archive: str
) -> None:
    # download.moodle.org resolves to this machine, where nothing listens on 443: the build never leaves it.
    result = build_image(
        tag=TAG,
        release_url="",
        release=fake_release,
        build_args={"MOODLE_VERSION": version},
        extra_options=["--add-host", "download.moodle.org:127.0.0.1"],
    )

    assert result.result.returncode != 0
    expected = f"https://download.moodle.org/download.php/direct/{archive}"
    assert f"Downloading Moodle {version} from {expected}" in result.output


def test_composer_refuses_a_php_without_the_releases_extensions(
    release_dir: Path, release_url: str, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "version.php").write_text("<?php $release = '5.1.6';\n")
    write_composer_files(tree, {"ext-not-in-this-php": "*"})
    release = pack_release(tree, release_dir / "needs-an-extension.tgz", version="5.1.6")

    result = build(release_url, release)

    assert result.result.returncode != 0
    assert "ext-not-in-this-php" in result.output
