"""What a Debian archive offers: its ``Packages`` indices and dpkg's order of versions. Standard library
only: the synth step's pin refresh (pipeline/image_pins_refresh.py) reads these at run time.

The order is dpkg's (deb-version(7)): epoch, then the upstream version and the Debian revision, each
compared as alternating runs of non-digits (letters before other characters, ``~`` before everything,
even the end) and numbers. ``tests/pipeline/test_debian_archive.py`` checks it against the host's own
``dpkg --compare-versions``.
"""

import re
from collections.abc import Iterable, Iterator, Mapping

_VERSION = re.compile(r"(?:(\d+):)?([0-9A-Za-z.+~:-]+?)(?:-([0-9A-Za-z.+~]+))?")


def _order(character: str) -> int:
    """dpkg's weight of one character of a non-digit run; 0 is the end of the run."""
    if character == "~":
        return -1
    if character.isalpha():
        return ord(character)
    return ord(character) + 256


def _compare_part(left: str, right: str) -> int:
    """One upstream version or revision against another, the way dpkg's verrevcmp does it."""
    i = j = 0
    while i < len(left) or j < len(right):
        first_difference = 0
        while (i < len(left) and not left[i].isdigit()) or (j < len(right) and not right[j].isdigit()):
            ours = _order(left[i]) if i < len(left) and not left[i].isdigit() else 0
            theirs = _order(right[j]) if j < len(right) and not right[j].isdigit() else 0
            if ours != theirs:
                return -1 if ours < theirs else 1
            i += 1
            j += 1
        while i < len(left) and left[i] == "0":
            i += 1
        while j < len(right) and right[j] == "0":
            j += 1
        while i < len(left) and left[i].isdigit() and j < len(right) and right[j].isdigit():
            if not first_difference:
                first_difference = ord(left[i]) - ord(right[j])
            i += 1
            j += 1
        if i < len(left) and left[i].isdigit():
            return 1
        if j < len(right) and right[j].isdigit():
            return -1
        if first_difference:
            return -1 if first_difference < 0 else 1
    return 0


def _split(version: str) -> tuple[int, str, str]:
    match = _VERSION.fullmatch(version)
    if not match:
        raise ValueError(f"{version!r} is no Debian package version")
    epoch, upstream, revision = match.groups()
    return int(epoch or 0), upstream, revision or ""


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` is older than, the same as, or newer than ``right``."""
    left_epoch, left_upstream, left_revision = _split(left)
    right_epoch, right_upstream, right_revision = _split(right)
    if left_epoch != right_epoch:
        return -1 if left_epoch < right_epoch else 1
    return _compare_part(left_upstream, right_upstream) or _compare_part(left_revision, right_revision)


def stanzas(text: str) -> Iterator[Mapping[str, str]]:
    """The paragraphs of a ``Packages`` index (deb822), folded continuation lines dropped: only single-line
    fields (Package, Version, Architecture) are read."""
    for paragraph in re.split(r"\n\s*\n", text):
        fields = {}
        for line in paragraph.splitlines():
            if line and not line[0].isspace() and ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value.strip()
        if "Package" in fields and "Version" in fields:
            yield fields


def newest_versions(indices: Iterable[str]) -> dict[str, str]:
    """The newest version of every package across the given ``Packages`` indices (a release, its updates
    and its security archive): what ``apt-get upgrade`` against them installs."""
    newest: dict[str, str] = {}
    for text in indices:
        for fields in stanzas(text):
            name, version = fields["Package"], fields["Version"]
            if name not in newest or compare_versions(version, newest[name]) > 0:
                newest[name] = version
    return newest
