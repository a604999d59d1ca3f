"""The image's Debian pins file (moodle_infra/image_pins.py): what it accepts, what it refuses and how, and
what the approval is told when pins move."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from moodle_infra.image_pins import PINS_FILE, PinsError, load_pins, parse_pins

COMMITTED = json.loads(PINS_FILE.read_text())


def test_the_committed_pins_pin_the_base_by_digest_and_every_package_of_the_image() -> None:
    pins = load_pins()
    assert pins.base_image.startswith("public.ecr.aws/debian/debian:trixie-slim@sha256:")
    assert pins.release == "trixie"
    names = dict(pins.packages)
    # PHP, nginx and the libraries a PHP security fix lands in, not only the base image's packages.
    assert {"php8.4-fpm", "php8.4-mysql", "nginx", "libssl3t64", "libc6", "curl"} <= names.keys()
    assert pins.build_args() == {"BASE_IMAGE": pins.base_image, "DEBIAN_SNAPSHOT": pins.snapshot}


def test_the_file_round_trips() -> None:
    pins = load_pins()
    assert parse_pins(json.loads(pins.to_json()), source="copy") == pins


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"base_image": "public.ecr.aws/debian/debian:trixie-slim"},
            "base_image: must be an image by tag and digest",
        ),
        (
            {"snapshot": "2026-12-05"},
            'snapshot: must be a snapshot.debian.org timestamp, like "20261205T000000Z"',
        ),
        ({"release": "Trixie"}, "release: must be a Debian codename"),
        ({"packages": {}}, "packages: must be an object of package name to version, not empty"),
        ({"packages": {"nginx": "latest"}}, "packages.nginx: must be a Debian package name with its version"),
        ({"suite": "trixie"}, "suite: is not a pin"),
    ],
)
def test_a_bad_pin_is_refused_naming_the_file_and_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(PinsError, match=r"^image/debian-pins\.json: ") as refused:
        parse_pins(COMMITTED | change, source="image/debian-pins.json")
    assert message in str(refused.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(PinsError) as refused:
        parse_pins({"base_image": 1, "release": 2, "snapshot": 3, "packages": []}, source="pins")
    assert len(str(refused.value).splitlines()) == 4


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "pins.json").write_text("{")
    with pytest.raises(PinsError, match=r"pins\.json: cannot be read as JSON"):
        load_pins(tmp_path / "pins.json")


def test_changes_name_moved_new_and_gone_packages() -> None:
    pins = load_pins()
    packages = dict(pins.packages)
    packages["nginx"] = "9.9-1"
    packages["libnew1"] = "1.0-1"
    del packages["curl"]
    newer = replace(pins, packages=tuple(sorted(packages.items())))
    assert [change.describe() for change in pins.changes_to(newer)] == [
        f"curl {dict(pins.packages)['curl']}->(gone)",
        "libnew1 (new)->1.0-1",
        f"nginx {dict(pins.packages)['nginx']}->9.9-1",
    ]
    assert pins.changes_to(replace(pins, snapshot="20270101T000000Z")) == []
