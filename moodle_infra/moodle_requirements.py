"""What each Moodle branch needs of PHP and MySQL, and the platform this project gives it.

The minimums come from Moodle's own ``admin/environment.xml`` (``<MOODLE version="X.Y" requires=...>``:
its ``PHP`` and ``DATABASE/VENDOR name="mysql"`` elements), which every release carries for the branches
after it too: Moodle 5.1.6's file already holds 5.2's and 5.3's. The PHP maximums are the newest PHP each
branch's release notes (moodledev.io, "Server requirements") list; Moodle 5.0 was the first to support
PHP 8.4. ``tests/unit/test_moodle_requirements.py`` checks this table against a real tree's file when one
is given (MOODLE_SRC), and that the image and the database meet every branch listed.
"""

from __future__ import annotations

from dataclasses import dataclass

Version = tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class BranchRequirements:
    php_minimum: Version
    php_maximum: Version
    mysql_minimum: Version
    upgrades_from: str
    """The oldest release a site can be upgraded from (the ``requires`` attribute)."""


@dataclass(frozen=True, kw_only=True)
class Platform:
    php: Version
    """The image's PHP: ``ARG PHP_VERSION`` of image/Dockerfile (Debian trixie's PHP)."""
    mysql: Version
    """RDS for MySQL's major version: ``ENGINE_MAJOR_VERSION`` of moodle_infra/database.py."""


PLATFORM = Platform(php=(8, 4), mysql=(8, 4))

REQUIREMENTS: dict[str, BranchRequirements] = {
    "5.0": BranchRequirements(
        php_minimum=(8, 2), php_maximum=(8, 4), mysql_minimum=(8, 4), upgrades_from="4.2.3"
    ),
    "5.1": BranchRequirements(
        php_minimum=(8, 2), php_maximum=(8, 4), mysql_minimum=(8, 4), upgrades_from="4.2.3"
    ),
    "5.2": BranchRequirements(
        php_minimum=(8, 3), php_maximum=(8, 4), mysql_minimum=(8, 4), upgrades_from="4.4"
    ),
    "5.3": BranchRequirements(
        php_minimum=(8, 3), php_maximum=(8, 4), mysql_minimum=(8, 4), upgrades_from="4.4"
    ),
}
"""Branches from 5.0 on: the image's own Redis plugin needs Moodle 5.0's APIs."""


def _shown(version: Version) -> str:
    return ".".join(map(str, version))


def unmet(requirements: BranchRequirements, platform: Platform = PLATFORM) -> list[str]:
    """What ``platform`` lacks for a branch, in words; empty when it runs the branch."""
    problems = []
    if not requirements.php_minimum <= platform.php <= requirements.php_maximum:
        problems.append(
            f"it needs PHP {_shown(requirements.php_minimum)} to {_shown(requirements.php_maximum)}, "
            f"the image has PHP {_shown(platform.php)}"
        )
    if platform.mysql < requirements.mysql_minimum:
        problems.append(
            f"it needs MySQL {_shown(requirements.mysql_minimum)} or newer, "
            f"RDS runs MySQL {_shown(platform.mysql)}"
        )
    return problems


def supported_branches(platform: Platform = PLATFORM) -> list[str]:
    """The branches ``platform`` runs, oldest first: what ``moodle_release.version`` may name."""
    return [branch for branch, requirements in REQUIREMENTS.items() if not unmet(requirements, platform)]


def branch_of(version: str) -> str:
    """ "5.1.6" and "5.3" are of branch "5.1" and "5.3"."""
    return ".".join(version.split(".")[:2])
