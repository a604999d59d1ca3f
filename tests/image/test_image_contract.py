"""The image's files agree with moodle_infra/image_contract.py and with each other."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from moodle_infra import image_contract
from moodle_infra.install_upgrade.handler import EXIT_CODE_MEANINGS
from tests.image.container import DEBIAN_RELEASE, REPO_ROOT
from tests.image.errors_testlib import exit_codes_with_includes
from tests.image.image_testlib import IMAGE_DIR

DOCKERFILE = (IMAGE_DIR / "Dockerfile").read_text()
NGINX = (IMAGE_DIR / "nginx" / "nginx.conf").read_text()
FPM_POOL = (IMAGE_DIR / "php-fpm" / "moodle.conf").read_text()
PHP_INI = (IMAGE_DIR / "php" / "moodle.ini").read_text()
OPCACHE_INI = (IMAGE_DIR / "php" / "opcache.ini").read_text()
CONFIG_PHP = (IMAGE_DIR / "moodle" / "config.php").read_text()
ENTRYPOINT = (IMAGE_DIR / "bin" / "entrypoint.sh").read_text()


def setting(text: str, name: str) -> str:
    """The value of `name = value` (ini, php-fpm) or `name value;` (nginx); exactly one must exist."""
    values = re.findall(rf"^\s*{re.escape(name)}\s*(?:=\s*|\s)(.+?);?\s*$", text, re.MULTILINE)
    assert len(values) == 1, f"{name}: {values}"
    value: str = values[0]
    return value


def megabytes(size: str) -> int:
    match = re.fullmatch(r"(\d+)[mM]", size)
    assert match, size
    return int(match[1])


def test_every_exit_code_of_install_or_upgrade_has_a_meaning_in_the_deployment_events() -> None:
    """The custom resource turns the task's exit code into the reason CloudFormation shows."""
    codes = exit_codes_with_includes(IMAGE_DIR / "bin" / "install-or-upgrade.php") - {0}

    assert codes >= {1, 2, 3, 4, 5, 6, 9}
    assert set(EXIT_CODE_MEANINGS) == codes


def test_port() -> None:
    port = image_contract.CONTAINER_PORT

    assert f"\nEXPOSE {port}\n" in DOCKERFILE
    assert setting(NGINX, "listen") == f"{port} default_server"
    assert f"http://127.0.0.1:{port}{image_contract.HEALTH_CHECK_PATH}" in DOCKERFILE


def test_health_check_is_answered_by_php_fpm_without_moodle() -> None:
    path = image_contract.HEALTH_CHECK_PATH

    assert f"location = {path} {{" in NGINX
    assert setting(FPM_POOL, "ping.path") == path
    assert "HEALTHCHECK" in DOCKERFILE


def test_runs_as_the_runtime_user() -> None:
    assert f"\nUSER {image_contract.RUNTIME_UID}:{image_contract.RUNTIME_GID}\n" in DOCKERFILE
    # Debian's www-data owns the directories the runtime user writes.
    assert image_contract.RUNTIME_UID == image_contract.RUNTIME_GID == 33
    assert "install -d -o www-data -g www-data -m 0770 /var/cache/moodle" in DOCKERFILE


def test_shared_data_path() -> None:
    path = image_contract.SHARED_DATA_PATH

    assert f"'MOODLE_DATAROOT', '{path}'" in CONFIG_PHP
    # Root's until EFS is mounted over it: without the mount the entrypoint refuses to start.
    assert f"install -d -m 0755 {path}" in DOCKERFILE
    assert re.search(rf"location /dataroot/ \{{\s*internal;\s*alias {re.escape(path)}/;", NGINX)
    assert (IMAGE_DIR / "php" / "opcache-blacklist.txt").read_text() == f"{path}/\n"
    assert f"MOODLE_DATAROOT:-{path}" in ENTRYPOINT


def test_local_cache_dir_is_served_by_nginx_from_the_same_default() -> None:
    assert "'MOODLE_LOCAL_CACHE_DIR', '/var/cache/moodle'" in CONFIG_PHP
    assert re.search(r"location /localcachedir/ \{\s*internal;\s*alias /var/cache/moodle/;", NGINX)


def test_commands() -> None:
    for command in (
        image_contract.COMMAND_WEB,
        image_contract.COMMAND_INSTALL_OR_UPGRADE,
        image_contract.COMMAND_CRON,
    ):
        assert f"\n        {command})\n" in ENTRYPOINT, command
    assert f'\nCMD ["{image_contract.COMMAND_WEB}"]\n' in DOCKERFILE
    assert f'local command="${{1:-{image_contract.COMMAND_WEB}}}"' in ENTRYPOINT


def test_upload_limits_agree() -> None:
    upload = megabytes(setting(PHP_INI, "upload_max_filesize"))
    post = megabytes(setting(PHP_INI, "post_max_size"))
    body = megabytes(setting(NGINX, "client_max_body_size"))

    assert upload < post, "a form with a file of the largest size also carries other fields"
    assert body == post


def test_max_input_vars_is_enough_for_moodle() -> None:
    assert int(setting(PHP_INI, "max_input_vars")) >= 5000


def test_opcache_never_revalidates_the_immutable_code() -> None:
    assert setting(OPCACHE_INI, "opcache.enable") == "1"
    assert setting(OPCACHE_INI, "opcache.validate_timestamps") == "0"
    assert setting(OPCACHE_INI, "opcache.blacklist_filename") == "/etc/php/opcache-blacklist.txt"
    assert "COPY --chmod=0644 php/opcache-blacklist.txt /etc/php/opcache-blacklist.txt" in DOCKERFILE


def test_php_fpm_keeps_the_environment_and_sizes_its_pool_from_it() -> None:
    assert setting(FPM_POOL, "clear_env") == "no"
    pool_variables = re.findall(r"^pm\.\w+ = \$\{(\w+)\}$", FPM_POOL, re.MULTILINE)

    assert len(pool_variables) == 5
    for name in pool_variables:
        # An unset variable would stop php-fpm, so the entrypoint exports a default for each.
        assert re.search(rf'^\s*export {name}="\${{{name}:-\d+}}"$', ENTRYPOINT, re.MULTILINE), name


def test_every_configuration_file_is_copied_into_the_image_with_its_mode() -> None:
    # A pipeline's source archive need not keep file modes: each COPY of the build context sets one.
    for directory in ("php", "php-fpm", "nginx", "moodle"):
        for path in (IMAGE_DIR / directory).iterdir():
            assert f"COPY --chmod=0644 {directory}/{path.name} " in DOCKERFILE, path
    assert "COPY --chmod=0755 bin/ /usr/local/lib/moodle-image/" in DOCKERFILE
    assert '\nENTRYPOINT ["/usr/local/lib/moodle-image/entrypoint.sh"]\n' in DOCKERFILE
    context_copies = re.findall(r"^COPY (?!--from=)(.*)$", DOCKERFILE, re.MULTILINE)
    assert context_copies
    assert all(copy.startswith("--chmod=") for copy in context_copies), context_copies


def test_base_image_is_debian_from_public_ecr_and_nothing_comes_from_docker_hub() -> None:
    images = re.findall(r"^ARG \w+_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)

    assert images == [f"public.ecr.aws/debian/debian:{DEBIAN_RELEASE}-slim"]
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE) == ["${BASE_IMAGE}", "php", "php"]
    # A BuildKit frontend line would pull docker/dockerfile from Docker Hub.
    assert not re.search(r"^#\s*syntax\s*=", DOCKERFILE, re.MULTILINE | re.IGNORECASE)
    assert "docker.io" not in DOCKERFILE
    assert "pecl install" not in DOCKERFILE
    assert "docker-php-ext" not in DOCKERFILE


def test_moodle_release_checksum_has_no_default() -> None:
    assert '\nARG MOODLE_SHA256=""\n' in DOCKERFILE
    assert re.search(r"^ARG MOODLE_VERSION=5\.1\.\d+$", DOCKERFILE, re.MULTILINE)


def test_buildspec_passes_the_release_build_arguments_and_skips_existing_tags() -> None:
    buildspec = yaml.safe_load((REPO_ROOT / "buildspec-image.yml").read_text())
    commands = "\n".join(command for phase in buildspec["phases"].values() for command in phase["commands"])
    dockerfile_arguments = set(re.findall(r"^ARG (MOODLE_\w+)=", DOCKERFILE, re.MULTILINE))

    assert buildspec["version"] == 0.2
    assert set(re.findall(r"--build-arg (MOODLE_\w+)", commands)) == dockerfile_arguments
    assert "aws ecr describe-images" in commands
    assert "docker login --username AWS --password-stdin public.ecr.aws" in commands
    assert '--tag "$IMAGE_REPOSITORY_URI:$IMAGE_TAG"' in commands
    assert re.search(r"^\s+image$", commands, re.MULTILINE), "the build context is image/"


DOCKER_HUB_REFERENCES = re.compile(
    r"docker\.io/|hub\.docker\.com|registry-1\.docker|public\.ecr\.aws/docker/library/"
    # A bare image name (FROM debian:13, image: php:8.4) is Docker Hub's.
    r"|^\s*(?:FROM|image:)\s+(?![\w.-]+\.[a-z]{2,}/|\$\{|localhost/|php\b|moodle\b)[\w./-]+[:@]",
    re.MULTILINE | re.IGNORECASE,
)


def test_nothing_in_the_project_pulls_from_docker_hub() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    offenders = [
        name
        for name in tracked
        if name
        and not name.startswith("tests/")
        and DOCKER_HUB_REFERENCES.search(read_text(REPO_ROOT / name))
    ]

    assert offenders == []


@pytest.mark.parametrize(
    "line",
    ["FROM debian:13", "FROM public.ecr.aws/docker/library/php:8.4-fpm", "image: docker.io/library/redis:7"],
)
def test_docker_hub_references_are_recognised(line: str) -> None:
    assert DOCKER_HUB_REFERENCES.search(line)


def read_text(path: Path) -> str:
    try:
        return path.read_text()
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        return ""
