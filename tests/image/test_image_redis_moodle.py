"""Real Moodle when Redis hangs, stops and comes back (opt-in: MOODLE_SRC=/path/to/moodle; docs/IMAGE.md).

The image's session handler and cache store (plugin cachestore_persistentredis) against a Redis with TLS
and AUTH that is paused (SIGSTOP: accepts connections, never answers, as in a failover or a partition),
stopped, and restarted empty (as a replaced node): pages fail fast with a 503 that names no address, the
health check answers throughout, and the site works again as soon as Redis does.
"""

from __future__ import annotations

import concurrent.futures
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, web_url
from tests.image.image_testlib import Redis
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_moodle import Browser, Deployment, login, new_deployment
from tests.image.test_image_redis import PASSWORD, TlsRedis, get, redis_log_lines, tls_redis

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

__all__ = ["tls_redis"]  # the fixture, imported: a Redis these tests may pause, stop and restart

MOODLE_DEFAULTS_SECONDS = 13
"""What a page took with Moodle's own Redis settings while Redis hung (issue 9)."""


@dataclass
class RedisSite:
    deployment: Deployment
    deployment_image: str
    web: Container
    redis: TlsRedis


@pytest.fixture(scope="module")
def redis_site(
    real_image: RealImage, mysql: MySQL, tls_redis: TlsRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisSite]:
    root = tmp_path_factory.mktemp("redis-site")
    root.chmod(0o755)
    redis = Redis(port=tls_redis.port, password=PASSWORD, ca_file=tls_redis.ca_a)
    deployment = new_deployment("moodle_redis_failures", root, mysql, redis)
    installed = deployment.run(real_image.tag, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    assert installed.returncode == 0, installed.stderr[-3000:]
    web = deployment.start_web(real_image.tag, "web")
    site = RedisSite(deployment, real_image.tag, web, tls_redis)
    yield site
    site.web.remove()
    mysql.sql("DROP DATABASE moodle_redis_failures")


def logged_in() -> Browser:
    browser = Browser()
    status, url, _ = login(browser)
    assert status == 200
    assert url.endswith("/my/")
    return browser


def assert_unavailable_without_addresses(status: int, body: str, redis: TlsRedis) -> None:
    assert status == 503, body[:500]
    for internal in ("127.0.0.1", "localhost", str(redis.port), "Redis"):
        assert internal not in body


def test_a_session_lives_in_redis_and_outlives_the_web_task(redis_site: RedisSite) -> None:
    """ECS replaces and adds tasks: a login must hold on any of them, so PHP's own file sessions (local to
    a container) must never be in use."""
    browser = logged_in()
    session_data = redis_site.redis.cli("HGETALL", f"mdl_session_{browser.cookie('MoodleSession')}")
    redis_site.web.remove()
    redis_site.web = redis_site.deployment.start_web(redis_site.deployment_image, "replaced web")

    status, url, _ = browser.open(web_url("/my/"))

    assert "USER" in session_data
    assert status == 200
    assert url.endswith("/my/")


def test_workers_reuse_their_redis_connections(redis_site: RedisSite) -> None:
    browser = logged_in()
    before = redis_site.redis.connections_received()

    for _ in range(20):
        assert browser.open(web_url("/my/"))[0] == 200

    # Sessions and caches of 20 pages: a few connections for the workers that served them, not 40.
    assert redis_site.redis.connections_received() - before - 1 <= 2 * 10


def test_a_paused_redis_fails_pages_fast_with_a_503_and_the_health_check_answers(
    redis_site: RedisSite,
) -> None:
    browser = logged_in()
    session = browser.cookie("MoodleSession")
    logged_before = set(redis_log_lines(redis_site.web))
    redis_site.redis.signal(signal.SIGSTOP)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            pages = [pool.submit(get, path) for path in ["/login/index.php", "/"] * 6]
            time.sleep(0.5)
            health = [get(image_contract.HEALTH_CHECK_PATH, timeout=5) for _ in range(3)]
            answered = [page.result() for page in pages]
    finally:
        redis_site.redis.signal(signal.SIGCONT)

    assert [status for status, _, _ in health] == [200, 200, 200]
    assert max(seconds for _, _, seconds in health) < 1.0
    for status, body, _ in answered:
        assert_unavailable_without_addresses(status, body, redis_site.redis)
    slowest = max(seconds for _, _, seconds in answered)
    assert slowest < MOODLE_DEFAULTS_SECONDS / 2, slowest
    # One log line per failed page (the session handler's and the cache store's attempts share it), with
    # phpredis's own warnings folded into it instead of lines of their own.
    logged = [line for line in redis_log_lines(redis_site.web) if line not in logged_before]
    assert len(logged) == len(answered), "\n".join(logged)
    assert all("Redis is unavailable: " in line for line in logged), "\n".join(logged)
    # Redis is back: the same login session carries on.
    status, url, _ = browser.open(web_url("/my/"))
    assert status == 200
    assert url.endswith("/my/")
    assert browser.cookie("MoodleSession") == session


def test_a_stopped_redis_fails_pages_at_once_and_a_restarted_empty_one_serves_again(
    redis_site: RedisSite,
) -> None:
    logged_in()
    redis_site.redis.stop()
    try:
        status, body, seconds = get("/login/index.php")
    finally:
        redis_site.redis.start()

    assert_unavailable_without_addresses(status, body, redis_site.redis)
    assert seconds < 1.0
    # A new, empty Redis (as after a node replacement): the pooled connections reconnect, sessions are gone.
    browser = logged_in()
    assert browser.open(web_url("/my/"))[0] == 200


def test_no_php_errors_while_redis_failed(redis_site: RedisSite) -> None:
    logs = redis_site.web.logs()

    assert "PHP Fatal error" not in logs
    assert "Redis is unavailable" in logs, "the reason is logged for the operator"
