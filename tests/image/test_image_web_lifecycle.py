"""How the `web` container stops: gracefully on SIGTERM (ECS's stop), at once when php-fpm or nginx dies."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import web_url
from tests.image.image_testlib import http_status
from tests.image.mysql_server import MySQL
from tests.image.test_image_web import WebTask, launch

pytestmark = [pytest.mark.container, pytest.mark.services]


@pytest.fixture
def own_task(fake_image: str, world_tmp: Path, mysql: MySQL) -> Iterator[WebTask]:
    """A web container for each test, which stops it."""
    task = launch(fake_image, world_tmp, mysql)
    yield task
    task.container.remove()


def test_sigterm_stops_both_processes_gracefully(own_task: WebTask) -> None:
    started = time.monotonic()

    status = own_task.container.stop(timeout=30)

    assert status == 0, own_task.container.logs()[-3000:]
    assert time.monotonic() - started < 25, "stopped by its own graceful shutdown, not by SIGKILL"


def test_the_container_stops_when_php_fpm_dies(own_task: WebTask) -> None:
    processes = own_task.container.exec("bash", "-c", "grep -l '^php-fpm' /proc/[0-9]*/comm").stdout
    masters = [int(re.findall(r"\d+", line)[0]) for line in processes.split()]
    php_fpm = min(masters)

    own_task.container.exec("bash", "-c", f"kill -KILL {php_fpm}")

    assert own_task.container.wait(timeout=30) != 0
    assert "php-fpm stopped" in own_task.container.logs()
    assert http_status(web_url(image_contract.HEALTH_CHECK_PATH)) == 0, "nginx stopped too"
