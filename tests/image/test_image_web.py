"""The `web` command: the image's nginx and php-fpm configuration serving a fake Moodle tree.

Both layouts are served: Moodle 5.1+ (web root public/, config.php above it) and the older flat tree.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from moodle_infra import image_contract
from tests.image.image_testlib import (
    WebStack,
    free_port,
    http_status,
    install_image_config,
    make_fake_moodle,
    make_runtime_dir,
    moodle_env,
    start_web_stack,
)

pytestmark = pytest.mark.services

# Files that exist in the web root but must not be served.
FORBIDDEN_FILES = [
    "vendor/autoload.php",
    "composer.json",
    "composer.lock",
    ".git/config",
    "lib/tests/fixtures/sample.txt",
    "admin/environment.xml",
    "README.md",
    "config.php",
]


def launch(root: Path, *, public_layout: bool) -> WebStack:
    root.chmod(0o755)
    moodle = make_fake_moodle(root / "moodle", public_layout=public_layout)
    webroot = moodle / "public" if public_layout else moodle
    for name in FORBIDDEN_FILES:
        (webroot / name).parent.mkdir(parents=True, exist_ok=True)
        (webroot / name).write_text("<?php echo 'secret';\n")
    dataroot = make_runtime_dir(root / "moodledata")
    make_runtime_dir(root / "localcache")
    env, work_dir, http_port = moodle_env(moodle, dataroot), make_runtime_dir(root / "work"), free_port()
    image_config = install_image_config(moodle, env, work_dir, http_port)
    return start_web_stack({**env, **image_config}, work_dir, http_port)


@pytest.fixture(scope="module", params=[True, False], ids=["public-layout", "flat-layout"])
def web(request: pytest.FixtureRequest) -> Iterator[WebStack]:
    root = Path(tempfile.mkdtemp(prefix="moodle-image-web-"))
    stack = launch(root, public_layout=request.param)
    yield stack
    stack.stop()
    shutil.rmtree(root, ignore_errors=True)


def get(web: WebStack, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(urlsplit(web.base_url).netloc, timeout=10)
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse()


def probe(web: WebStack, path: str = "/probe.php", headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = get(web, path, headers)
    assert response.status == 200, response.read()
    answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_health_check(web: WebStack) -> None:
    response = get(web, image_contract.HEALTH_CHECK_PATH)

    assert response.status == 200
    assert response.read() == b"ok"


def test_php_sees_the_containers_environment_and_the_images_ini(web: WebStack) -> None:
    answer = probe(web)

    assert answer["db_name_from_environment"] == "moodle"
    assert answer["max_input_vars"] == "5000"


def test_slash_arguments_reach_php_as_path_info(web: WebStack) -> None:
    # User file names may look like the paths nginx hides: they follow the script, so they are served.
    answer = probe(web, "/probe.php/12/mod_resource/content/1/tests/README.md")

    assert answer["script_name"] == "/probe.php"
    assert answer["path_info"] == "/12/mod_resource/content/1/tests/README.md"


def test_client_address_is_the_rightmost_untrusted_forwarded_address(web: WebStack) -> None:
    # A forged entry first, then the viewer as CloudFront saw it, then CloudFront's VPC origin address.
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9, 10.0.0.5"}

    assert probe(web, headers=forwarded)["remote_addr"] == "203.0.113.9"


@pytest.mark.parametrize("path", ["/" + name for name in FORBIDDEN_FILES] + ["/missing.php"])
def test_internal_files_are_not_served(web: WebStack, path: str) -> None:
    response = get(web, path)

    assert response.status == 404
    assert b"secret" not in response.read()


def test_x_accel_redirect_serves_dataroot_files_only_on_moodles_behalf(web: WebStack) -> None:
    dataroot = Path(web.env["MOODLE_DATAROOT"])
    (dataroot / "filedir").mkdir(exist_ok=True)
    (dataroot / "filedir" / "hello.txt").write_text("hello from moodledata\n")

    handed_over = get(web, "/probe.php?sendfile=filedir/hello.txt")
    direct = get(web, "/dataroot/filedir/hello.txt")

    assert handed_over.status == 200
    assert handed_over.read() == b"hello from moodledata\n"
    assert direct.status == 404


def test_text_is_compressed(web: WebStack) -> None:
    response = get(web, "/probe.php?size=20000", {"Accept-Encoding": "gzip"})

    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(response.read()).startswith(b"moodle moodle")


def test_request_bodies_above_the_upload_limit_are_refused(web: WebStack) -> None:
    connection = http.client.HTTPConnection(urlsplit(web.base_url).netloc, timeout=10)
    connection.putrequest("POST", "/probe.php")
    connection.putheader("Content-Length", str(261 * 1024 * 1024))
    connection.endheaders()

    assert connection.getresponse().status == 413


@pytest.fixture
def own_stack(world_tmp: Path) -> Iterator[WebStack]:
    """A stack of its own, for tests that stop it."""
    stack = launch(world_tmp, public_layout=True)
    yield stack
    stack.stop()


def test_sigterm_stops_both_processes_gracefully(own_stack: WebStack) -> None:
    children = child_pids(own_stack)

    own_stack.process.send_signal(signal.SIGTERM)

    assert own_stack.process.wait(timeout=30) == 0
    assert children
    assert not any(Path(f"/proc/{pid}").exists() for pid in children)


def test_the_container_stops_when_php_fpm_dies(own_stack: WebStack) -> None:
    php_fpm = next(pid for pid, name in child_processes(own_stack) if name.startswith("php-fpm"))

    os.kill(php_fpm, signal.SIGKILL)

    assert own_stack.process.wait(timeout=30) != 0
    assert "php-fpm stopped" in own_stack.logs()
    assert http_status(own_stack.base_url + image_contract.HEALTH_CHECK_PATH) == 0, "nginx stopped too"


def child_processes(stack: WebStack) -> list[tuple[int, str]]:
    result = subprocess.run(
        ["ps", "-o", "pid=,comm=", "--ppid", str(stack.process.pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [(int(pid), name) for pid, name in (line.split(None, 1) for line in result.stdout.splitlines())]


def child_pids(stack: WebStack) -> list[int]:
    return [pid for pid, _ in child_processes(stack)]
