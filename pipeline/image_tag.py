"""The Moodle image's tag: a content hash of ``image/``, of the build arguments the pipeline passes and of
the Debian pins (base digest and package versions: moodle_infra/image_pins.py), computed when the app is
synthesized.

The same tag goes to the image build step (which skips a tag that is already pushed) and to every
stage's task definitions, so an unchanged image is neither rebuilt nor rolled out, and any change to
it (content, a new, removed or renamed file, the executable bit, a build argument such as the Moodle
release, a moved base digest or package version) gives a new tag and a rollout. The pins file itself is
hashed by what it pins, not by its bytes: its snapshot timestamp alone changes no package.
"""

import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from moodle_infra.image_pins import PINS_FILE_NAME, ImagePins

TAG_PREFIX = "img-"
HASH_CHARACTERS = 16
"""64 bits of the SHA-256: collisions between the few hundred images a repository ever holds are
not a practical concern, and the tag stays readable in the console."""

IGNORED_DIRECTORIES = frozenset({"__pycache__", ".git", ".idea", ".vscode", ".mypy_cache", ".pytest_cache"})
IGNORED_FILE_SUFFIXES = (".pyc", ".pyo", ".swp", ".swo", "~")
IGNORED_FILE_NAMES = frozenset({".DS_Store", "Thumbs.db"})
"""Byproducts of editors, interpreters and file browsers: they never change what is built."""


def image_tag(directory: Path, *, build_args: Mapping[str, str], pins: ImagePins | None = None) -> str:
    """``img-`` and the first 16 hex characters of a SHA-256 over every file of ``directory`` (path,
    executable bit, bytes), every build argument and what ``pins`` pin. Timestamps and other mode bits
    are left out: a fresh git checkout changes them but not the image."""
    if not directory.is_dir():
        raise FileNotFoundError(f"the Moodle image directory {directory} does not exist")
    digest = hashlib.sha256()

    def add(*fields: bytes) -> None:
        """Each field with its length first, so that no two different inputs hash the same stream."""
        for field in fields:
            digest.update(len(field).to_bytes(8, "big"))
            digest.update(field)

    for relative_path in sorted(_image_files(directory)):
        path = directory / relative_path
        if path.is_symlink():
            add(b"link", relative_path.encode(), str(path.readlink()).encode())
        else:
            executable = path.stat().st_mode & stat.S_IXUSR
            add(b"exec" if executable else b"file", relative_path.encode(), path.read_bytes())
    for name, value in sorted(build_args.items()):
        add(b"build-arg", name.encode(), value.encode())
    for name, value in sorted((pins.tag_inputs() if pins else {}).items()):
        add(b"pin", name.encode(), value.encode())
    return TAG_PREFIX + digest.hexdigest()[:HASH_CHARACTERS]


def _image_files(directory: Path) -> Iterator[str]:
    """Relative POSIX paths of the files (and symbolic links) that go into the image, junk left out."""
    for root, directories, files in os.walk(directory):
        directories[:] = [name for name in directories if name not in IGNORED_DIRECTORIES]
        linked_directories = [name for name in directories if (Path(root) / name).is_symlink()]
        for name in files + linked_directories:
            if name in IGNORED_FILE_NAMES or name.endswith(IGNORED_FILE_SUFFIXES):
                continue
            if root == str(directory) and name == PINS_FILE_NAME:
                continue
            yield (Path(root) / name).relative_to(directory).as_posix()
