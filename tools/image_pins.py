"""Makes ``image/debian-pins.json`` anew from a build: ``make pins`` (docs/IMAGE.md, "Security rebuilds").

Needed when the image's package set changes (a package added to or removed from the Dockerfile, or a new
dependency), which the pipeline's refresh refuses to guess. Builds the Dockerfile's ``php`` stage, whose
Debian packages are the image's (the later stages install none), on the container harness, and writes
every installed package with its version; the base image and the Debian release stay as committed, the
snapshot becomes today's. Needs podman, mmdebstrap and runc (Debian packages) and Debian's mirror.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Mapping
from dataclasses import replace

from moodle_infra.image_pins import PINS_FILE, load_pins
from pipeline.image_pins_refresh import snapshot_of
from tests.image.container import build_image, checkout_tag, podman

PACKAGES_STAGE = "php"
"""The Dockerfile's stage that installs the image's Debian packages."""


def installed_packages(image: str) -> dict[str, str]:
    """Every Debian package installed in ``image``, with its version: what the pins list."""
    listing = podman(
        "run", "--rm", "--entrypoint", "dpkg-query", image, "-W", "-f", "${Package}\\t${Version}\\n"
    ).stdout  # fmt: skip
    return dict(line.split("\t", 1) for line in listing.splitlines() if line)


def build_packages_stage(
    tag: str, *, cached: bool = True, build_args: Mapping[str, str] | None = None
) -> str:
    build = build_image(
        tag=tag,
        release_url="",
        release=None,
        build_args=build_args,
        extra_options=["--target", PACKAGES_STAGE, *([] if cached else ["--no-cache"])],
    )
    if build.result.returncode != 0:
        raise RuntimeError(f"podman build --target {PACKAGES_STAGE} failed:\n{build.output[-4000:]}")
    return tag


def main() -> int:
    image = build_packages_stage(checkout_tag("debian-pins"), cached=False)
    packages = installed_packages(image)
    committed = load_pins()
    made = replace(
        committed,
        snapshot=snapshot_of(datetime.datetime.now(datetime.UTC)),
        packages=tuple(sorted(packages.items())),
    )
    PINS_FILE.write_text(made.to_json())
    changes = committed.changes_to(made)
    print(f"{PINS_FILE}: {len(packages)} packages, {len(changes)} changed")
    for change in changes:
        print(f"  {change.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
