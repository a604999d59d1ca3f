"""The image's Debian pins on the real artifact (issue 20): the Dockerfile's snapshot mode installs the same
packages from the same pins, the pins name exactly the image's packages, and the pipeline's refresh
resolves a snapshot to the very versions a build from it installs.

snapshot.debian.org cannot be reached from these machines, so a loopback server with its layout
(``/debian/<timestamp>/…``, ``/debian-security/<timestamp>/…``) serves Debian's mirror as it is now: the
real Release files, signatures and packages, through the same sources file, keyring and
``Check-Valid-Until`` the Dockerfile writes for the real archive. Two builds minutes apart see the same
archive, which is what a pinned snapshot guarantees for builds weeks apart.
"""

from __future__ import annotations

import datetime
import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import pytest

from moodle_infra.image_pins import load_pins
from pipeline import image_pins_refresh
from pipeline.debian_archive import compare_versions
from pipeline.image_tag import image_tag
from tests.image.container import IMAGE_DIR, build_image, checkout_tag, podman, require_podman
from tools.image_pins import PACKAGES_STAGE, build_packages_stage, installed_packages

pytestmark = pytest.mark.container

PINS = load_pins()
NOW = datetime.datetime.now(datetime.UTC)
SNAPSHOT = image_pins_refresh.snapshot_of(NOW)
UPSTREAM = {
    "debian": "http://deb.debian.org/debian",
    "debian-security": "http://security.debian.org/debian-security",
}
"""Where the loopback archive takes each of snapshot.debian.org's archives from."""


class SnapshotLayout(http.server.BaseHTTPRequestHandler):
    """``GET /<archive>/<timestamp>/<path>`` answered with ``<upstream of archive>/<path>``."""

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        archive, _, rest = self.path.lstrip("/").partition("/")
        timestamp, _, path = rest.partition("/")
        if archive not in UPSTREAM or timestamp != SNAPSHOT:
            self.send_error(404)
            return
        try:
            with urllib.request.urlopen(f"{UPSTREAM[archive]}/{path}", timeout=120) as upstream:
                body = upstream.read()
        except urllib.error.HTTPError as error:
            self.send_error(error.code)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def snapshot_archive() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SnapshotLayout)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def two_builds(snapshot_archive: str) -> tuple[dict[str, str], dict[str, str]]:
    """The packages stage built twice from the same snapshot, without the layer cache."""
    require_podman()
    build_args = {"DEBIAN_SNAPSHOT": SNAPSHOT, "DEBIAN_SNAPSHOT_ARCHIVE": snapshot_archive}
    tags = [
        build_packages_stage(checkout_tag(f"debian-pins-{n}"), cached=False, build_args=build_args)
        for n in (1, 2)
    ]
    sources = podman(
        "run", "--rm", "--entrypoint", "cat", tags[0], "/etc/apt/sources.list.d/debian.sources"
    ).stdout
    assert f"URIs: {snapshot_archive}/debian-security/{SNAPSHOT}" in sources, "apt used the snapshot"
    first, second = (installed_packages(tag) for tag in tags)
    return first, second


def test_two_builds_from_the_same_pins_install_the_same_packages(
    two_builds: tuple[dict[str, str], dict[str, str]],
) -> None:
    first, second = two_builds
    assert len(first) > 150
    assert first == second


def test_same_lists_give_the_same_tag_and_a_moved_package_a_new_one(
    two_builds: tuple[dict[str, str], dict[str, str]],
) -> None:
    def tag(packages: dict[str, str]) -> str:
        return image_tag(
            IMAGE_DIR, build_args={}, pins=replace(PINS, packages=tuple(sorted(packages.items())))
        )

    first, second = two_builds
    assert tag(first) == tag(second)
    assert tag(first | {"libssl3t64": first["libssl3t64"] + "+deb13u99"}) != tag(first)


def test_the_committed_pins_name_every_package_of_the_image(
    two_builds: tuple[dict[str, str], dict[str, str]],
) -> None:
    installed, pinned = two_builds[0], dict(PINS.packages)
    assert installed.keys() == pinned.keys(), (
        f"not pinned: {sorted(installed.keys() - pinned.keys())}, pinned but not installed: "
        f"{sorted(pinned.keys() - installed.keys())}: run `make pins` (docs/IMAGE.md)"
    )
    # The archive only moves forward: a pin newer than what a build installs today was never built.
    ahead = {
        name: (pinned[name], installed[name])
        for name in pinned
        if compare_versions(pinned[name], installed[name]) > 0
    }
    assert ahead == {}


def test_the_refresh_resolves_the_snapshot_to_the_versions_a_build_from_it_installs(
    two_builds: tuple[dict[str, str], dict[str, str]], snapshot_archive: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline's refresh reads the same archive as the build: the pins it writes are the packages the
    image then has, so the tag says exactly what is built. (The base image's registry is not reachable
    here; its digest stays the committed one.)"""
    monkeypatch.setattr(
        image_pins_refresh, "base_image_digest", lambda *_, **__: PINS.base_image.split("@")[1]
    )
    refreshed = image_pins_refresh.refresh(PINS, now=NOW, archive=snapshot_archive)
    assert dict(refreshed.packages) == two_builds[0]


def test_a_malformed_snapshot_fails_the_build_by_name() -> None:
    require_podman()
    build = build_image(
        tag=checkout_tag("debian-pins-bad"), release_url="", release=None,
        build_args={"DEBIAN_SNAPSHOT": "2026-12-05"}, extra_options=["--target", PACKAGES_STAGE],
    )  # fmt: skip
    assert build.result.returncode != 0
    assert "build argument DEBIAN_SNAPSHOT must be a timestamp like 20261205T000000Z" in build.output
