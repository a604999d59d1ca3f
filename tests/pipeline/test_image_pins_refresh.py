"""The synth step's refresh of the image's Debian pins (pipeline/image_pins_refresh.py), against a
loopback server that speaks the two protocols it uses: the OCI registry API with its bearer-token
challenge (public.ecr.aws's) and snapshot.debian.org's archive layout with xz-compressed indices."""

import datetime
import http.server
import json
import lzma
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from moodle_infra.image_pins import ImagePins, load_pins
from pipeline import image_pins_refresh
from pipeline.image_pins_refresh import RefreshError, refresh, summary

OLD_DIGEST = "sha256:" + "a" * 64
NEW_DIGEST = "sha256:" + "b" * 64
TODAY = datetime.datetime(2026, 12, 7, 3, 0, 12, tzinfo=datetime.UTC)
SNAPSHOT = "20261207T000000Z"


def index(**packages: str) -> bytes:
    text = "\n".join(
        f"Package: {name}\nVersion: {version}\nArchitecture: amd64\n" for name, version in packages.items()
    )
    return lzma.compress(text.encode())


@dataclass
class Archive:
    """What the loopback server answers: the tag's digest and one Packages index per suite."""

    digest: str = OLD_DIGEST
    suites: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)


def handler(archive: Archive) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            archive.requests.append(f"HEAD {self.path} {self.headers.get('Accept', '')}")
            if self.path != "/v2/debian/debian/manifests/trixie-slim":
                return self.answer(404)
            if self.headers.get("Authorization") != "Bearer pull-token":
                realm = f"http://{self.headers['Host']}/token/"
                return self.answer(401, WWW_Authenticate=f'Bearer realm="{realm}",service="test.registry"')
            return self.answer(200, Docker_Content_Digest=archive.digest)

        def do_GET(self) -> None:
            archive.requests.append(f"GET {self.path}")
            if self.path == "/token/?service=test.registry&scope=repository%3Adebian%2Fdebian%3Apull":
                return self.answer(200, json.dumps({"token": "pull-token"}).encode())
            for suite, body in archive.suites.items():
                if self.path.endswith(f"/{SNAPSHOT}/dists/{suite}/main/binary-amd64/Packages.xz"):
                    return self.answer(200, body)
            return self.answer(404)

    return Handler


@pytest.fixture
def archive() -> Iterator[tuple[Archive, str]]:
    found = Archive(
        suites={
            "trixie": index(**{"libssl3t64": "3.5.1-1", "nginx": "1.26.3-3", "php8.4-fpm": "8.4.11-1"}),
            "trixie-updates": index(),
            "trixie-security": index(),
        }
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(found))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield found, f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def committed(host: str) -> ImagePins:
    return ImagePins(
        base_image=f"{host}/debian/debian:trixie-slim@{OLD_DIGEST}",
        release="trixie",
        snapshot="20261130T000000Z",
        packages=(("libssl3t64", "3.5.1-1"), ("nginx", "1.26.3-3"), ("php8.4-fpm", "8.4.11-1")),
    )


def refreshed(host: str) -> ImagePins:
    return refresh(committed(host), now=TODAY, archive=f"http://{host}", registry_scheme="http")


def test_a_week_without_new_packages_keeps_the_committed_pins_byte_for_byte(
    archive: tuple[Archive, str],
) -> None:
    _, host = archive
    assert refreshed(host) == committed(host)
    assert "nothing moved" in summary(committed(host), refreshed(host))


def test_a_security_fix_moves_its_package_and_the_snapshot(archive: tuple[Archive, str]) -> None:
    found, host = archive
    found.suites["trixie-security"] = index(libssl3t64="3.5.1-1+deb13u1")
    pins = refreshed(host)
    assert pins.snapshot == SNAPSHOT
    assert dict(pins.packages) == {
        "libssl3t64": "3.5.1-1+deb13u1",
        "nginx": "1.26.3-3",
        "php8.4-fpm": "8.4.11-1",
    }
    assert [change.describe() for change in committed(host).changes_to(pins)] == [
        "libssl3t64 3.5.1-1->3.5.1-1+deb13u1"
    ]


def test_a_point_release_in_updates_counts_like_a_security_fix(archive: tuple[Archive, str]) -> None:
    found, host = archive
    found.suites["trixie-updates"] = index(**{"php8.4-fpm": "8.4.16-1~deb13u1"})
    assert dict(refreshed(host).packages)["php8.4-fpm"] == "8.4.16-1~deb13u1"


def test_a_new_base_digest_alone_moves_the_pins(archive: tuple[Archive, str]) -> None:
    found, host = archive
    found.digest = NEW_DIGEST
    pins = refreshed(host)
    assert pins.base_image == f"{host}/debian/debian:trixie-slim@{NEW_DIGEST}"
    assert pins.packages == committed(host).packages
    assert pins.snapshot == SNAPSHOT


def test_the_registry_is_asked_with_its_own_token_for_the_multi_architecture_index(
    archive: tuple[Archive, str],
) -> None:
    found, host = archive
    refreshed(host)
    heads = [request for request in found.requests if request.startswith("HEAD")]
    assert len(heads) == 2  # the challenge, then with the token
    assert heads[0].split(" ", 2)[2].startswith("application/vnd.oci.image.index.v1+json")
    assert (
        f"GET /debian-security/{SNAPSHOT}/dists/trixie-security/main/binary-amd64/Packages.xz"
        in found.requests
    )


def test_a_package_the_archive_no_longer_has_fails_the_refresh(archive: tuple[Archive, str]) -> None:
    _, host = archive
    pins = replace(committed(host), packages=(*committed(host).packages, ("libgone1", "1.0-1")))
    with pytest.raises(RefreshError, match="has no package libgone1"):
        refresh(pins, now=TODAY, archive=f"http://{host}", registry_scheme="http")


def test_an_unreachable_index_fails_the_refresh(archive: tuple[Archive, str]) -> None:
    found, host = archive
    del found.suites["trixie-security"]
    with pytest.raises(RefreshError, match=r"trixie-security.*404"):
        refreshed(host)


def test_the_command_writes_pins_the_app_loads(
    archive: tuple[Archive, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found, host = archive
    found.suites["trixie-security"] = index(nginx="1.26.3-3+deb13u1")
    pins_file = tmp_path / "committed.json"
    pins_file.write_text(committed(host).to_json())
    monkeypatch.setattr(image_pins_refresh, "base_image_digest", lambda *_, **__: NEW_DIGEST)
    monkeypatch.setattr(image_pins_refresh, "snapshot_of", lambda _: SNAPSHOT)
    out = tmp_path / "out" / "refreshed.json"
    assert (
        image_pins_refresh.main(["--pins", str(pins_file), "--out", str(out), "--archive", f"http://{host}"])
        == 0
    )
    assert dict(load_pins(out).packages)["nginx"] == "1.26.3-3+deb13u1"
    found.suites["trixie"] = b"not xz"
    assert (
        image_pins_refresh.main(["--pins", str(pins_file), "--out", str(out), "--archive", f"http://{host}"])
        == 1
    )
