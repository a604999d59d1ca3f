"""The image as built from image/Dockerfile: user, file modes, read-only code, PHP as loaded, HEALTHCHECK.

Each property is a check that returns the problems it finds, run on the built image and, as negative
controls, on deliberately broken images, which it must catch.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import (
    IMAGE_DIR,
    ReleaseArchive,
    build_image,
    checkout_tag,
    inspect_image,
    podman,
    run_container,
)

pytestmark = pytest.mark.container

PHP_EXTENSIONS = (
    # Required by Moodle 5.0 to 5.3 (admin/environment.xml).
    "ctype", "curl", "dom", "fileinfo", "filter", "gd", "hash", "iconv", "intl", "json", "mbstring",
    "openssl", "pcre", "simplexml", "sodium", "spl", "xml", "xmlreader", "zip", "zlib",
    # Recommended there.
    "exif", "soap", "tokenizer",
    # The database driver, OPcache, and Redis for sessions and the application cache.
    "mysqli", "zend opcache", "redis",
)  # fmt: skip
"""The real-Moodle test checks this list against the pinned release's own environment.xml."""

PHP_SETTINGS = {"max_input_vars": "5000", "memory_limit": "256M", "upload_max_filesize": "256M"}

Check = Callable[[str], list[str]]


def sh(image: str, script: str) -> str:
    result = run_container(image, "bash", "-c", script, env={})
    assert result.returncode == 0, result.stderr
    return result.stdout


def missing_extensions(image: str) -> list[str]:
    """Extensions Moodle needs that PHP does not load, on the CLI (install, cron) or in php-fpm (web)."""
    problems = []
    for sapi in ("php", "php-fpm"):
        loaded = {line.strip().lower() for line in sh(image, f"{sapi} -m").splitlines()}
        problems += [f"{sapi}: {name}" for name in PHP_EXTENSIONS if name not in loaded]
    return problems


def wrong_php_settings(image: str) -> list[str]:
    problems = []
    for sapi in ("php", "php-fpm"):
        settings = dict(re.findall(r"^(\S+) => (\S+) => \S+$", sh(image, f"{sapi} -i"), re.MULTILINE))
        problems += [
            f"{sapi}: {name} = {settings.get(name)}, want {value}"
            for name, value in PHP_SETTINGS.items()
            if settings.get(name) != value
        ]
    fpm = dict(re.findall(r"^(\S+) => (\S+) => \S+$", sh(image, "php-fpm -i"), re.MULTILINE))
    if (fpm.get("opcache.enable"), fpm.get("opcache.validate_timestamps")) != ("On", "Off"):
        problems.append("php-fpm: OPcache must be on and never revalidate the immutable code")
    return problems


def entrypoint_problems(image: str) -> list[str]:
    """The entrypoint runs as the runtime user and answers for itself (a usage error exits 2)."""
    result = run_container(image, "cron", "--twice", env={})
    problems = []
    if result.returncode != 2 or "usage:" not in result.stderr:
        problems.append(f"entrypoint: exit {result.returncode}: {result.stderr.strip()[-300:]}")
    if (
        inspect_image(image, "{{.Config.User}}")
        != f"{image_contract.RUNTIME_UID}:{image_contract.RUNTIME_GID}"
    ):
        problems.append("the image does not run as the runtime user")
    return problems


def writable_code(image: str) -> list[str]:
    """Files of the Moodle tree, the image's helpers or its configuration that the runtime user can change."""
    directories = "/var/www/moodle /usr/local/lib/moodle-image /etc/php /etc/nginx"
    writable = sh(image, f"find {directories} -writable 2>/dev/null | head -20")
    return [f"writable: {path}" for path in writable.split()]


def healthcheck_problems(image: str) -> list[str]:
    check = json.loads(inspect_image(image, "{{json .Config.Healthcheck}}") or "null")
    url = f"http://127.0.0.1:{image_contract.CONTAINER_PORT}{image_contract.HEALTH_CHECK_PATH}"
    if not check or url not in check.get("Test", []):
        return [f"HEALTHCHECK missing or not on {url}: {check}"]
    return []


CHECKS: dict[str, Check] = {
    "extensions": missing_extensions,
    "php settings": wrong_php_settings,
    "entrypoint": entrypoint_problems,
    "read-only code": writable_code,
    "healthcheck": healthcheck_problems,
}


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_built_image_passes(fake_image: str, check: str) -> None:
    assert CHECKS[check](fake_image) == []


def test_runtime_user_and_modes_as_built(fake_image: str) -> None:
    output = sh(
        fake_image,
        "id -u; id -g; stat -c '%a %U %n' /usr/local/lib/moodle-image/* /var/www/moodle/config.php"
        " /var/www/moodledata /var/cache/moodle",
    )
    uid, gid, *modes = output.splitlines()

    assert (int(uid), int(gid)) == (image_contract.RUNTIME_UID, image_contract.RUNTIME_GID)
    helpers = [f"755 root /usr/local/lib/moodle-image/{path.name}" for path in (IMAGE_DIR / "bin").iterdir()]
    assert sorted(modes) == sorted(
        [
            *helpers,
            "644 root /var/www/moodle/config.php",
            # Root's until EFS is mounted over it: the entrypoint's data directory check then fails.
            f"755 root {image_contract.SHARED_DATA_PATH}",
            "770 www-data /var/cache/moodle",
        ]
    )


def test_config_php_is_the_images_own(fake_image: str) -> None:
    assert (
        sh(fake_image, "cat /var/www/moodle/config.php") == (IMAGE_DIR / "moodle" / "config.php").read_text()
    )


def test_composer_ran_at_build_time_without_dev_packages(fake_image: str) -> None:
    output = sh(
        fake_image,
        "test -f /var/www/moodle/vendor/autoload.php && echo autoload; command -v composer || true",
    )

    assert output.split() == ["autoload"], "composer stays in the build stage"


# --- Negative controls: deliberately broken images ------------------------------------------------------


def derived_image(base: str, tag: str, dockerfile_lines: str, tmp_path: Path) -> str:
    """An image built on top of the tested one, with the lines given."""
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nUSER root\n{dockerfile_lines}\nUSER 33:33\n")
    podman("build", "--format", "docker", "--tag", tag, str(tmp_path), timeout=300)
    return tag


def test_a_missing_extension_is_caught(fake_image: str, tmp_path: Path) -> None:
    broken = derived_image(
        fake_image, checkout_tag("broken-intl"), "RUN rm /etc/php/*/*/conf.d/20-intl.ini", tmp_path
    )

    assert missing_extensions(broken) == ["php: intl", "php-fpm: intl"]


def test_writable_code_is_caught(fake_image: str, tmp_path: Path) -> None:
    broken = derived_image(
        fake_image,
        checkout_tag("broken-owner"),
        "RUN chown www-data /var/www/moodle/config.php",
        tmp_path,
    )

    assert writable_code(broken) == ["writable: /var/www/moodle/config.php"]


def test_a_non_executable_entrypoint_is_caught(
    fake_release: ReleaseArchive, release_url: str, tmp_path: Path
) -> None:
    """The Dockerfile itself with the helpers' mode wrong: what a source archive without modes would do
    without COPY --chmod."""
    context = tmp_path / "image"
    shutil.copytree(IMAGE_DIR, context)
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("COPY --chmod=0755 bin/", "COPY --chmod=0644 bin/", 1)
    )
    build = build_image(
        tag=checkout_tag("broken-mode"),
        release_url=f"{release_url}/{fake_release.path.name}",
        release=fake_release,
        context=context,
    )
    assert build.result.returncode == 0, build.output[-3000:]

    problems = entrypoint_problems(build.tag)

    assert len(problems) == 1
    assert "exit 126" in problems[0]
    assert "ermission denied" in problems[0]
