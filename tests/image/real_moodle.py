"""Real Moodle trees for the image's integration tests (opt-in: MOODLE_SRC, MOODLE_SRC_PREVIOUS).

A tree is packed as a release archive, served on loopback and built into the image by the Dockerfile's
own release step, checksum and composer included, exactly as the pipeline builds download.moodle.org's
archive. Trees are never part of this repository (docs/IMAGE.md, "Testing against real Moodle").
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.image.container import build_image, checkout_tag, pack_release, require_podman

SOURCE_VARIABLE = "MOODLE_SRC"
"""The release under test (the newest line, e.g. 5.1.6)."""
PREVIOUS_SOURCE_VARIABLE = "MOODLE_SRC_PREVIOUS"
"""An older release to upgrade from (e.g. 5.0.6+); the upgrade test needs both."""


def core_version_file(tree: Path) -> Path:
    version_file = next(
        (path for path in (tree / "public" / "version.php", tree / "version.php") if path.exists()), None
    )
    if version_file is None:
        pytest.fail(f"{tree} is not a Moodle tree: it has no version.php")
    return version_file


def release_of(tree: Path) -> str:
    """The release number in the tree's version.php ('5.0.6+ (Build: ...)' gives '5.0.6')."""
    version_file = core_version_file(tree)
    match = re.search(r"^\$release\s*=\s*'(\d+\.\d+(?:\.\d+)?)", version_file.read_text(), re.MULTILINE)
    assert match, f"no $release in {version_file}"
    return match[1]


def version_of(tree: Path) -> str:
    """The core version in the tree's version.php, as the database stores it ('2025100606.00')."""
    version_file = core_version_file(tree)
    match = re.search(r"^\$version\s*=\s*([\d.]+);", version_file.read_text(), re.MULTILINE)
    assert match, f"no $version in {version_file}"
    return match[1]


def source_tree(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        pytest.skip(f"set {variable} to a Moodle tree to run (docs/IMAGE.md)")
    tree = Path(value).resolve()
    if (tree / "config.php").exists():
        pytest.fail(f"{tree}/config.php exists: a release archive has none; remove it first")
    return tree


@dataclass(frozen=True)
class RealImage:
    tag: str
    release: str
    timings: dict[str, str]
    version: str
    """The core version of its version.php, e.g. 2025100606.00."""


def build_real_image(
    variable: str,
    release_dir: Path,
    release_url: str,
    *,
    build_args: dict[str, str] | None = None,
    name: str = "real",
) -> RealImage:
    """``build_args`` adds to the release's (plugins, language packs); ``name`` tells such images apart."""
    require_podman()
    tree = source_tree(variable)
    release = release_of(tree)
    started = time.monotonic()
    archive = pack_release(tree, release_dir / f"moodle-{release}.tgz", version=release)
    packed = time.monotonic() - started
    build = build_image(
        tag=checkout_tag(f"{name}-{release}"),
        release_url=f"{release_url}/{archive.path.name}",
        release=archive,
        build_args=build_args,
    )
    assert build.result.returncode == 0, build.output[-6000:]
    archive.path.unlink()
    return RealImage(
        build.tag,
        release,
        {
            f"pack {release} as a release archive": f"{packed:.1f} s",
            f"build the {release} image": f"{build.seconds:.1f} s",
        },
        version_of(tree),
    )
