"""The pins that make two builds of the image the same bytes of Debian: the base image by digest, the
point in time of Debian's snapshot archive the build installs from, and the version of every Debian
package the image holds (``image/debian-pins.json``; docs/IMAGE.md, "Security rebuilds").

The base digest and the package versions go into the image tag (pipeline/image_tag.py); the snapshot's
timestamp does not, because a newer snapshot that changes none of the image's packages makes the same
image: a week without a fix for any of them rebuilds nothing and rolls out nothing. The pipeline's
synth step moves the pins forward on its schedule (pipeline/image_pins_refresh.py); ``image/`` keeps
the ones last committed, which the sandbox and any offline synthesis use.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from moodle_infra.moodle_image import IMAGE_DIRECTORY

PINS_FILE_NAME = "debian-pins.json"
PINS_FILE = IMAGE_DIRECTORY / PINS_FILE_NAME
PINS_ENVIRONMENT_VARIABLE = "MOODLE_IMAGE_PINS"
"""Set by the synth step to the refreshed pins; unset, the committed file is used."""

BASE_IMAGE = re.compile(r"[a-z0-9.-]+(?::\d+)?(/[a-z0-9._-]+)+:[\w.-]+@sha256:[0-9a-f]{64}")
SNAPSHOT = re.compile(r"\d{8}T\d{6}Z")
RELEASE = re.compile(r"[a-z]+")
PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
VERSION = re.compile(r"(\d+:)?[0-9][0-9A-Za-z.+~:-]*")


class PinsError(ValueError):
    """A pins file that cannot be built from; the message names the file and the field."""


@dataclass(frozen=True, kw_only=True)
class PackageChange:
    package: str
    before: str | None
    """None: new in the image."""
    after: str | None
    """None: gone from the image."""

    def describe(self) -> str:
        return f"{self.package} {self.before or '(new)'}->{self.after or '(gone)'}"


@dataclass(frozen=True, kw_only=True)
class ImagePins:
    base_image: str
    """``registry/repository:tag@sha256:<digest>``: the tag is what is followed, the digest what is built."""
    release: str
    """The Debian release's codename, like "trixie": the suites of the snapshot archive."""
    snapshot: str
    """A snapshot.debian.org timestamp, like "20261205T000000Z"."""
    packages: tuple[tuple[str, str], ...]
    """(package, version) of every Debian package in the image, sorted."""

    @property
    def followed_base_image(self) -> str:
        """The base image's tag without the digest: what a refresh looks up."""
        return self.base_image.split("@", 1)[0]

    def build_args(self) -> dict[str, str]:
        return {"BASE_IMAGE": self.base_image, "DEBIAN_SNAPSHOT": self.snapshot}

    def tag_inputs(self) -> dict[str, str]:
        """What decides the image's Debian bytes: the base digest and every package version."""
        packages = {f"package:{name}": version for name, version in self.packages}
        return {"base-image": self.base_image} | packages

    def changes_to(self, newer: "ImagePins") -> list[PackageChange]:
        """The packages whose versions differ in ``newer``, by name."""
        ours, theirs = dict(self.packages), dict(newer.packages)
        return [
            PackageChange(package=name, before=ours.get(name), after=theirs.get(name))
            for name in sorted(ours.keys() | theirs.keys())
            if ours.get(name) != theirs.get(name)
        ]

    def to_json(self) -> str:
        document = {
            "base_image": self.base_image,
            "release": self.release,
            "snapshot": self.snapshot,
            "packages": dict(self.packages),
        }
        return json.dumps(document, indent=1) + "\n"


def parse_pins(document: object, *, source: str) -> ImagePins:
    """Every problem at once, each naming ``source`` and the field, like the configuration's errors."""
    if not isinstance(document, dict):
        raise PinsError(f"{source}: must be a JSON object with base_image, release, snapshot and packages")
    problems = []
    expected = {
        "base_image": (BASE_IMAGE, 'an image by tag and digest, like '
                       '"public.ecr.aws/debian/debian:trixie-slim@sha256:<64 hex digits>"'),
        "release": (RELEASE, 'a Debian codename in lowercase letters, like "trixie"'),
        "snapshot": (SNAPSHOT, 'a snapshot.debian.org timestamp, like "20261205T000000Z"'),
    }  # fmt: skip
    for name in sorted(document.keys() - {*expected, "packages"}):
        problems.append(f"{source}: {name}: is not a pin (allowed: base_image, release, snapshot, packages)")
    for name, (pattern, what) in expected.items():
        value = document.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            problems.append(f"{source}: {name}: must be {what}, got {value!r}")
    packages = document.get("packages")
    if not isinstance(packages, dict) or not packages:
        problems.append(f"{source}: packages: must be an object of package name to version, not empty")
        packages = {}
    for name, version in packages.items():
        if not PACKAGE.fullmatch(name) or not isinstance(version, str) or not VERSION.fullmatch(version):
            problems.append(
                f"{source}: packages.{name}: must be a Debian package name with its version, like "
                f'"libssl3t64": "3.5.1-1+deb13u1", got {version!r}'
            )
    if problems:
        raise PinsError("\n".join(problems))
    return ImagePins(
        base_image=document["base_image"],
        release=document["release"],
        snapshot=document["snapshot"],
        packages=tuple(sorted(packages.items())),
    )


def load_pins(path: Path = PINS_FILE) -> ImagePins:
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise PinsError(f"{path}: cannot be read as JSON: {error}") from error
    return parse_pins(document, source=str(path))
