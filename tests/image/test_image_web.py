"""The `web` command of the built image: nginx and php-fpm serving a fake Moodle release.

Both layouts are served: Moodle 5.1+ (web root public/, config.php above it) and the older flat tree.
"""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from moodle_infra import image_contract
from tests.image.conftest import FORBIDDEN_FILES
from tests.image.container import Container, Mount, run_container, start_web
from tests.image.image_testlib import make_runtime_dir, moodle_env
from tests.image.mysql_server import MySQL

# `web` starts only on a data directory that install-or-upgrade prepared, which needs the database.
pytestmark = [pytest.mark.container, pytest.mark.services]


@dataclass
class WebTask:
    container: Container
    dataroot: Path
    env: dict[str, str]


def launch(image: str, root: Path, mysql: MySQL, **overrides: str) -> WebTask:
    """install-or-upgrade into a new database, then `web`: what the pipeline does on a first deploy;
    ``overrides`` add to or replace the task's variables."""
    database = f"web_{root.name.replace('-', '_')}"[:60]
    mysql.sql(f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}")
    dataroot = make_runtime_dir(root / "moodledata")
    mounts: list[Mount] = [(dataroot, image_contract.SHARED_DATA_PATH)]
    env = moodle_env(
        MOODLE_DB_PORT=str(mysql.port), MOODLE_DB_NAME=database, FAKE_MOODLE_LOG="/dev/null", **overrides
    )
    installed = run_container(image, image_contract.COMMAND_INSTALL_OR_UPGRADE, env=env, mounts=mounts)
    assert installed.returncode == 0, installed.stderr
    return WebTask(start_web(image, env=env, mounts=mounts), dataroot, env)


@pytest.fixture(
    scope="module", params=["fake_image", "fake_flat_image"], ids=["public-layout", "flat-layout"]
)
def web(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, mysql: MySQL
) -> Iterator[WebTask]:
    root = tmp_path_factory.mktemp("web")
    root.chmod(0o755)
    task = launch(request.getfixturevalue(request.param), root, mysql)
    yield task
    task.container.remove()


def connect() -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", image_contract.CONTAINER_PORT, timeout=10)


def get(web: WebTask, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = connect()
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse()


def probe(web: WebTask, path: str = "/probe.php", headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = get(web, path, headers)
    assert response.status == 200, response.read()
    answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_health_check(web: WebTask) -> None:
    response = get(web, image_contract.HEALTH_CHECK_PATH)

    assert response.status == 200
    assert response.read() == b"ok"


def test_php_sees_the_containers_environment_and_the_images_ini(web: WebTask) -> None:
    answer = probe(web)

    assert answer["db_name_from_environment"] == web.env["MOODLE_DB_NAME"]
    assert answer["max_input_vars"] == "5000"


def test_slash_arguments_reach_php_as_path_info(web: WebTask) -> None:
    # User file names may look like the paths nginx hides: they follow the script, so they are served.
    answer = probe(web, "/probe.php/12/mod_resource/content/1/tests/README.md")

    assert answer["script_name"] == "/probe.php"
    assert answer["path_info"] == "/12/mod_resource/content/1/tests/README.md"


def test_client_address_is_the_rightmost_untrusted_forwarded_address(web: WebTask) -> None:
    # A forged entry first, then the viewer as CloudFront saw it, then CloudFront's VPC origin address.
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9, 10.0.0.5"}

    assert probe(web, headers=forwarded)["remote_addr"] == "203.0.113.9"


@pytest.mark.parametrize(
    "path", ["/" + name for name in FORBIDDEN_FILES] + ["/config.php/", "/config.php/index.php/x"]
)
def test_internal_files_are_not_served(web: WebTask, path: str) -> None:
    response = get(web, path)

    assert response.status == 404
    assert b"secret" not in response.read()
    assert response.getheader("Content-Type") != "application/json", "answered by nginx, not the router"


@pytest.mark.parametrize(
    "path",
    [
        "/api/rest/v2/core/templates/boost/core/loading?lang=en",
        "/missing.php?id=3",
        # Under a directory of no entry points, but no file: the router's, as any other such path.
        "/lib/classes/missing.php?id=3",
    ],
)
def test_paths_that_are_no_file_go_to_moodles_router(web: WebTask, path: str) -> None:
    response = get(web, path)

    assert response.status == 404
    assert json.loads(response.read()) == {"routed": path, "script_name": "/r.php"}


def test_x_accel_redirect_serves_dataroot_files_only_on_moodles_behalf(web: WebTask) -> None:
    (web.dataroot / "filedir").mkdir(exist_ok=True)
    (web.dataroot / "filedir" / "hello.txt").write_text("hello from moodledata\n")

    handed_over = get(web, "/probe.php?sendfile=filedir/hello.txt")
    direct = get(web, "/dataroot/filedir/hello.txt")

    assert handed_over.status == 200
    assert handed_over.read() == b"hello from moodledata\n"
    assert direct.status == 404


def test_text_is_compressed(web: WebTask) -> None:
    response = get(web, "/probe.php?size=20000", {"Accept-Encoding": "gzip"})

    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(response.read()).startswith(b"moodle moodle")


def test_request_bodies_above_the_upload_limit_are_refused(web: WebTask) -> None:
    connection = connect()
    connection.putrequest("POST", "/probe.php")
    connection.putheader("Content-Length", str(261 * 1024 * 1024))
    connection.endheaders()

    assert connection.getresponse().status == 413


def test_health_check_of_the_image_passes(web: WebTask) -> None:
    assert web.container.healthcheck()


def test_runs_as_the_runtime_user_and_cannot_change_the_code(web: WebTask) -> None:
    result = web.container.exec("bash", "-c", "id -u; touch /var/www/moodle/config.php /var/www/webroot/x")

    assert result.stdout.split() == [str(image_contract.RUNTIME_UID)]
    assert result.returncode != 0
    assert result.stderr.count("Permission denied") == 2
