"""Moves the image's pins forward (moodle_infra/image_pins.py): run by the pipeline's synth step before it
synthesizes, when ``moodle.pipeline.security_rebuild`` is set (docs/IMAGE.md, "Security rebuilds").

``python -m pipeline.image_pins_refresh --out FILE`` looks up the digest the base image's tag points to
now (the registry's own API, anonymous pull token) and the newest version of every pinned package in
Debian's snapshot archive as of today, 00:00 UTC (the release, its updates and its security archive,
amd64, as the image's ``apt-get upgrade`` sees them), and writes the pins the build is to use to FILE.

When neither the base digest nor any package moved, FILE holds the committed pins unchanged, snapshot
timestamp included: the synthesized pipeline is then byte for byte the last one, so nothing is rebuilt,
rolled out or even self-mutated. The timestamp is a whole day so that the execution the self-mutation
restarts resolves the same pins as the one that mutated (a moving "now" would mutate it forever).
"""

import argparse
import datetime
import json
import lzma
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from moodle_infra.image_pins import PINS_FILE, ImagePins, PackageChange, load_pins
from pipeline.debian_archive import newest_versions

SNAPSHOT_ARCHIVE = "https://snapshot.debian.org/archive"
ARCHITECTURE = "amd64"
"""The web and cron tasks run on X86_64 (moodle_infra/moodle_task.py)."""
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
"""The multi-architecture index first: its digest is what ``FROM image@sha256:...`` resolves everywhere."""
TIMEOUT_SECONDS = 120
CHALLENGE = re.compile(r'(\w+)="([^"]*)"')

Fetch = Callable[[urllib.request.Request], tuple[bytes, dict[str, str]]]


def fetch(request: urllib.request.Request) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.read(), dict(response.headers.items())


class RefreshError(RuntimeError):
    """The pins cannot be moved; the synth step fails rather than build from pins it did not check."""


def base_image_digest(followed: str, *, scheme: str = "https", opener: Fetch = fetch) -> str:
    """The digest ``registry/repository:tag`` points to now, by the OCI distribution API: a HEAD of the
    manifest, and on 401 the bearer token the registry's challenge names (anonymous pull scope)."""
    registry, path = followed.split("/", 1)
    repository, tag = path.rsplit(":", 1)
    url = f"{scheme}://{registry}/v2/{repository}/manifests/{tag}"
    accept = {"Accept": ", ".join(MANIFEST_TYPES)}
    try:
        _, headers = opener(urllib.request.Request(url, method="HEAD", headers=accept))
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise RefreshError(f"{url}: {error.code} {error.reason}") from error
        challenge = dict(CHALLENGE.findall(error.headers.get("WWW-Authenticate", "")))
        if "realm" not in challenge:
            raise RefreshError(f"{url}: 401 without a bearer token challenge") from error
        query = {"service": challenge.get("service", registry), "scope": f"repository:{repository}:pull"}
        body, _ = opener(urllib.request.Request(f"{challenge['realm']}?{urllib.parse.urlencode(query)}"))
        token = json.loads(body).get("token") or json.loads(body).get("access_token")
        authorized = accept | {"Authorization": f"Bearer {token}"}
        _, headers = opener(urllib.request.Request(url, method="HEAD", headers=authorized))
    digest = {name.lower(): value for name, value in headers.items()}.get("docker-content-digest", "")
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise RefreshError(f"{url}: no Docker-Content-Digest in the registry's answer")
    return digest


def index_urls(archive: str, release: str, snapshot: str) -> list[str]:
    """The release, its updates and its security archive at ``snapshot``: the sources the Dockerfile
    writes when DEBIAN_SNAPSHOT is set."""
    binary = f"main/binary-{ARCHITECTURE}/Packages.xz"
    return [
        f"{archive}/debian/{snapshot}/dists/{release}/{binary}",
        f"{archive}/debian/{snapshot}/dists/{release}-updates/{binary}",
        f"{archive}/debian-security/{snapshot}/dists/{release}-security/{binary}",
    ]


def snapshot_of(now: datetime.datetime) -> str:
    return now.astimezone(datetime.UTC).strftime("%Y%m%dT000000Z")


def refresh(
    committed: ImagePins,
    *,
    now: datetime.datetime,
    archive: str = SNAPSHOT_ARCHIVE,
    registry_scheme: str = "https",
    opener: Fetch = fetch,
) -> ImagePins:
    """The pins for a build today: the committed ones when nothing moved, else the new digest, snapshot
    and versions. A pinned package the archive no longer has fails: the image's package set changed,
    and the pins must be made anew from a build (docs/IMAGE.md)."""
    snapshot = snapshot_of(now)
    digest = base_image_digest(committed.followed_base_image, scheme=registry_scheme, opener=opener)
    indices = []
    for url in index_urls(archive, committed.release, snapshot):
        try:
            body, _ = opener(urllib.request.Request(url))
        except urllib.error.HTTPError as error:
            raise RefreshError(f"{url}: {error.code} {error.reason}") from error
        indices.append(lzma.decompress(body).decode("utf-8"))
    newest = newest_versions(indices)
    gone = sorted(name for name, _ in committed.packages if name not in newest)
    if gone:
        raise RefreshError(
            f"Debian's {committed.release} at {snapshot} has no package {', '.join(gone)}: the image's "
            "package set changed; make the pins anew (docs/IMAGE.md, Security rebuilds)"
        )
    moved = replace(
        committed,
        base_image=f"{committed.followed_base_image}@{digest}",
        snapshot=snapshot,
        packages=tuple((name, newest[name]) for name, _ in committed.packages),
    )
    if moved.tag_inputs() == committed.tag_inputs():
        return committed
    return moved


def summary(committed: ImagePins, refreshed: ImagePins) -> str:
    changes: Sequence[PackageChange] = committed.changes_to(refreshed)
    lines = [f"Image pins: snapshot {refreshed.snapshot}, base {refreshed.base_image}"]
    if refreshed.base_image != committed.base_image:
        lines.append(f"  base image moved from {committed.base_image}")
    lines += [f"  {change.describe()}" for change in changes]
    if refreshed == committed:
        lines.append("  nothing moved: the committed pins stand")
    return "\n".join(lines)


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pins", type=Path, default=PINS_FILE, help="the committed pins")
    parser.add_argument("--out", type=Path, required=True, help="where to write the pins to build from")
    parser.add_argument("--archive", default=SNAPSHOT_ARCHIVE)
    options = parser.parse_args(arguments)
    committed = load_pins(options.pins)
    try:
        refreshed = refresh(committed, now=datetime.datetime.now(datetime.UTC), archive=options.archive)
    except (RefreshError, urllib.error.URLError, lzma.LZMAError) as error:
        print(f"image pins: cannot refresh: {error}", file=sys.stderr)
        return 1
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(refreshed.to_json())
    print(summary(committed, refreshed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
