"""The image tag changes when, and only when, something that goes into the image changes."""

import re
import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from moodle_infra.config import load_config
from moodle_infra.image_pins import PINS_FILE_NAME, load_pins
from moodle_infra.moodle_image import IMAGE_DIRECTORY
from pipeline.image_tag import image_tag

RELEASE = {"MOODLE_VERSION": "5.1.6", "MOODLE_SHA256": "a" * 64}


def tag_of(directory: Path, build_args: Mapping[str, str] = RELEASE) -> str:
    return image_tag(directory, build_args=build_args)


@pytest.fixture
def image_copy(tmp_path: Path) -> Path:
    """A copy of the real ``image/`` (modes kept) that a test may change."""
    copy = tmp_path / "image"
    shutil.copytree(IMAGE_DIRECTORY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "bin").mkdir(exist_ok=True)
    (copy / "bin" / "tool.sh").write_text("#!/bin/sh\necho tool\n")
    return copy


def _any_file(directory: Path) -> Path:
    return next(path for path in sorted(directory.rglob("*")) if path.is_file())


def test_tag_is_short_and_readable(image_copy: Path) -> None:
    assert re.fullmatch(r"img-[0-9a-f]{16}", tag_of(image_copy))


def test_tag_depends_on_content_not_on_location(image_copy: Path, tmp_path: Path) -> None:
    second_copy = shutil.copytree(image_copy, tmp_path / "elsewhere")
    assert tag_of(second_copy) == tag_of(image_copy)


def test_real_image_directory_gets_the_same_tag_as_its_copy(tmp_path: Path) -> None:
    copy = shutil.copytree(IMAGE_DIRECTORY, tmp_path / "image", ignore=shutil.ignore_patterns("__pycache__"))
    assert tag_of(copy) == tag_of(IMAGE_DIRECTORY)


def test_changed_content_changes_the_tag(image_copy: Path) -> None:
    before = tag_of(image_copy)
    path = _any_file(image_copy)
    path.write_bytes(path.read_bytes() + b"\n")
    assert tag_of(image_copy) != before


def test_new_file_changes_the_tag(image_copy: Path) -> None:
    before = tag_of(image_copy)
    (image_copy / "php" / "extra.ini").parent.mkdir(exist_ok=True)
    (image_copy / "php" / "extra.ini").write_text("")
    assert tag_of(image_copy) != before


def test_removed_file_changes_the_tag(image_copy: Path) -> None:
    before = tag_of(image_copy)
    (image_copy / "bin" / "tool.sh").unlink()
    assert tag_of(image_copy) != before


def test_renamed_file_changes_the_tag(image_copy: Path) -> None:
    before = tag_of(image_copy)
    (image_copy / "bin" / "tool.sh").rename(image_copy / "bin" / "tool2.sh")
    assert tag_of(image_copy) != before


def test_moving_bytes_between_files_changes_the_tag(image_copy: Path) -> None:
    """Each file is hashed with its length, so ``ab`` + ``c`` never equals ``a`` + ``bc``."""
    (image_copy / "bin" / "tool.sh").write_text("ab")
    (image_copy / "bin" / "tool2.sh").write_text("c")
    before = tag_of(image_copy)
    (image_copy / "bin" / "tool.sh").write_text("a")
    (image_copy / "bin" / "tool2.sh").write_text("bc")
    assert tag_of(image_copy) != before


def test_executable_bit_changes_the_tag(image_copy: Path) -> None:
    script = image_copy / "bin" / "tool.sh"
    script.chmod(0o644)
    before = tag_of(image_copy)
    script.chmod(0o755)
    assert tag_of(image_copy) != before


def test_timestamps_and_other_permission_bits_do_not_change_the_tag(image_copy: Path) -> None:
    """A fresh git checkout has new timestamps and the umask's group bits; the image is the same."""
    before = tag_of(image_copy)
    script = image_copy / "bin" / "tool.sh"
    script.chmod(0o600)
    for path in image_copy.rglob("*"):
        if path.is_file():
            path.touch()
    assert tag_of(image_copy) == before


@pytest.mark.parametrize(
    "junk",
    [
        "__pycache__/helper.cpython-311.pyc",
        "helper.pyc",
        ".DS_Store",
        "bin/.tool.sh.swp",
        "config.php~",
        ".idea/x.xml",
    ],
)
def test_editor_and_interpreter_junk_does_not_change_the_tag(image_copy: Path, junk: str) -> None:
    before = tag_of(image_copy)
    (image_copy / junk).parent.mkdir(parents=True, exist_ok=True)
    (image_copy / junk).write_bytes(b"junk")
    assert tag_of(image_copy) == before


def test_another_moodle_release_changes_the_tag(image_copy: Path) -> None:
    upgraded = {"MOODLE_VERSION": "5.1.7", "MOODLE_SHA256": "b" * 64}
    assert tag_of(image_copy, upgraded) != tag_of(image_copy)
    assert tag_of(image_copy, {}) != tag_of(image_copy)


def test_a_plugin_or_language_pack_in_cdk_json_changes_the_tag(
    image_copy: Path, raw_config: dict[str, Any]
) -> None:
    """The plugin list goes into the tag, so adding, changing or removing a plugin rebuilds and rolls out."""
    plugin = {"component": "mod_customcert", "url": "https://example.org/customcert.zip", "sha256": "c" * 64}

    def tag_with(**release: object) -> str:
        config = load_config({**raw_config, "moodle_release": {**raw_config["moodle_release"], **release}})
        return tag_of(image_copy, config.moodle_release.build_args())

    tags = {
        tag_with(),
        tag_with(plugins=[plugin]),
        tag_with(plugins=[{**plugin, "sha256": "d" * 64}]),
        tag_with(language_packs=[{"code": "de", "sha256": "e" * 64}]),
    }
    assert len(tags) == 4


def test_build_args_do_not_collide_with_files(tmp_path: Path) -> None:
    """A build argument is hashed as what it is, never as if it were a file with the same bytes."""
    empty = tmp_path / "empty"
    empty.mkdir()
    with_file = tmp_path / "with_file"
    with_file.mkdir()
    (with_file / "MOODLE_VERSION").write_text("5.1.6")
    assert tag_of(empty, {"MOODLE_VERSION": "5.1.6"}) != tag_of(with_file, {})


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tag_of(tmp_path / "missing")


PINS = load_pins()


def test_the_pins_file_counts_by_what_it_pins_not_by_its_bytes(image_copy: Path) -> None:
    """A new snapshot timestamp with the same packages and base is the same image: no rebuild, no rollout."""
    before = image_tag(image_copy, build_args=RELEASE, pins=PINS)
    (image_copy / PINS_FILE_NAME).write_text(replace(PINS, snapshot="20270101T000000Z").to_json())
    assert image_tag(image_copy, build_args=RELEASE, pins=PINS) == before
    assert (
        image_tag(image_copy, build_args=RELEASE, pins=replace(PINS, snapshot="20270101T000000Z")) == before
    )


def test_a_moved_package_pin_changes_the_tag(image_copy: Path) -> None:
    packages = dict(PINS.packages)
    packages["libssl3t64"] += "+deb13u99"
    moved = replace(PINS, packages=tuple(sorted(packages.items())))
    assert image_tag(image_copy, build_args=RELEASE, pins=moved) != image_tag(
        image_copy, build_args=RELEASE, pins=PINS
    )


def test_a_moved_base_digest_changes_the_tag(image_copy: Path) -> None:
    moved = replace(PINS, base_image=PINS.followed_base_image + "@sha256:" + "0" * 64)
    assert image_tag(image_copy, build_args=RELEASE, pins=moved) != image_tag(
        image_copy, build_args=RELEASE, pins=PINS
    )


def test_a_new_package_in_the_image_changes_the_tag(image_copy: Path) -> None:
    grown = replace(PINS, packages=tuple(sorted((*PINS.packages, ("libnew1", "1.0-1")))))
    assert image_tag(image_copy, build_args=RELEASE, pins=grown) != image_tag(
        image_copy, build_args=RELEASE, pins=PINS
    )
