"""The image's files running a real Moodle tree end to end (opt-in: MOODLE_SRC=/path/to/moodle).

The tree must be unpacked outside the repository, with `composer install --no-dev` run in it when it has a
composer.json (docs/IMAGE.md). The image's config.php is copied to its top for the duration of the test, as
the Dockerfile does. Everything else is the image's own configuration on Debian's php-fpm, nginx,
MariaDB and Redis (with TLS and AUTH, as ElastiCache), run by the entrypoint as the runtime user.
"""

from __future__ import annotations

import filecmp
import http.cookiejar
import json
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.image_testlib import (
    IMAGE_DIR,
    MariaDB,
    Redis,
    WebStack,
    free_port,
    install_image_config,
    make_runtime_dir,
    moodle_env,
    run_entrypoint,
    start_web_stack,
)

pytestmark = [
    pytest.mark.moodle,
    pytest.mark.services,
    pytest.mark.skipif(not os.environ.get("MOODLE_SRC"), reason="set MOODLE_SRC to a Moodle tree to run"),
]

ADMIN_USER, ADMIN_PASSWORD = "admin", "Admin-Password-1!"
INSTALL_TIMEOUT = 600


@dataclass
class Site:
    env: dict[str, str]
    web: WebStack
    redis: Redis
    measurements: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def moodle_src() -> Iterator[Path]:
    """The tree in MOODLE_SRC with the image's config.php at its top, as in the image."""
    src = Path(os.environ["MOODLE_SRC"]).resolve()
    assert (src / "admin" / "cli" / "install_database.php").exists(), f"{src} is not a Moodle tree"
    config = src / "config.php"
    image_config = IMAGE_DIR / "moodle" / "config.php"
    if config.exists() and not filecmp.cmp(config, image_config, shallow=False):
        pytest.fail(f"{config} exists and is not the image's config.php: remove it first")
    shutil.copy(image_config, config)
    yield src
    config.unlink()


@pytest.fixture(scope="module")
def site(moodle_src: Path, mariadb: MariaDB, redis_tls: Redis) -> Iterator[Site]:
    root = Path(tempfile.mkdtemp(prefix="moodle-image-site-"))
    root.chmod(0o755)
    database = "moodle_integration"
    mariadb.sql(f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database} CHARACTER SET utf8mb4")
    redis_tls.cli("FLUSHALL")
    http_port = free_port()
    base_env = moodle_env(
        moodle_src,
        make_runtime_dir(root / "moodledata"),
        MOODLE_WWWROOT=f"http://127.0.0.1:{http_port}",
        MOODLE_DB_PORT=str(mariadb.port),
        MOODLE_DB_NAME=database,
        MOODLE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MOODLE_REDIS_HOST="localhost",
        MOODLE_REDIS_PORT=str(redis_tls.port),
        MOODLE_REDIS_TLS="true",
        MOODLE_REDIS_AUTH=redis_tls.password,
        MOODLE_REDIS_CAFILE=str(redis_tls.ca_file),
        # Moodle never hands files below localrequestdir (the temp dir) to nginx, and all of this
        # test's directories are below /tmp.
        TMPDIR=str(make_runtime_dir(root / "tmp")),
    )
    make_runtime_dir(root / "localcache")
    work_dir = make_runtime_dir(root / "work")
    env = {**base_env, **install_image_config(moodle_src, base_env, work_dir, http_port)}

    started = time.monotonic()
    installed = run_entrypoint(env, image_contract.COMMAND_INSTALL_OR_UPGRADE, timeout=INSTALL_TIMEOUT)
    install_seconds = time.monotonic() - started
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "installing Moodle" in installed.stderr

    web = start_web_stack(env, work_dir, http_port)
    site = Site(env, web, redis_tls, {"install-or-upgrade (install)": f"{install_seconds:.1f} s"})
    yield site
    assert web.stop() == 0, web.logs()[-3000:]
    print("\nmeasurements: " + json.dumps(site.measurements, indent=2))
    mariadb.sql(f"DROP DATABASE {database}")
    shutil.rmtree(root, ignore_errors=True)


class Browser:
    """A cookie-keeping HTTP client that counts its requests."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.requests = 0

    def open(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Returns the status, the final URL after redirects and the body."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        self.requests += 1
        with self.opener.open(url, data=data, timeout=60) as response:
            return response.status, response.url, response.read().decode()

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name and cookie.value)


def logintoken(page: str) -> str:
    match = re.search(r'name="logintoken" value="(\w+)"', page)
    assert match, "the login form has a logintoken"
    return match[1]


def test_login_page(site: Site) -> None:
    status, _, page = Browser().open(site.web.base_url + "/login/index.php")

    assert status == 200
    assert 'id="login"' in page
    assert logintoken(page)


def test_admin_logs_in_with_the_session_in_redis(site: Site) -> None:
    browser = Browser()
    _, _, login_page = browser.open(site.web.base_url + "/login/index.php")
    credentials = {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "logintoken": logintoken(login_page)}

    started = time.monotonic()
    browser.open(site.web.base_url + "/login/index.php", credentials)
    status, url, dashboard = browser.open(site.web.base_url + "/my/")
    site.measurements["login and dashboard"] = (
        f"{browser.requests} requests in {time.monotonic() - started:.2f} s"
    )

    assert status == 200
    assert url.endswith("/my/")
    assert "login/logout.php?sesskey=" in dashboard
    session_id = browser.cookie("MoodleSession")
    session_keys = site.redis.cli("--scan", "--pattern", f"*{session_id}*").split()
    site.measurements["session keys"] = ", ".join(session_keys)
    assert f"mdl_session_{session_id}" in session_keys


def test_application_and_session_caches_are_stored_in_redis(site: Site) -> None:
    show_mappings = (
        "define('CLI_SCRIPT', true); require getenv('MOODLE_DIR') . '/config.php';"
        "$config = \\core_cache\\config::instance();"
        "echo json_encode(['mappings' => $config->get_mode_mappings(),"
        " 'stores' => array_map(fn($store) => $store['plugin'], $config->get_all_stores())]);"
    )

    result = run_entrypoint(site.env, "php", "-r", show_mappings)

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    stores_by_mode = {mode: [m["store"] for m in cache["mappings"] if m["mode"] == mode] for mode in (1, 2)}
    assert stores_by_mode == {1: ["redis"], 2: ["redis"]}, "application (1) and session (2) modes"
    assert cache["stores"]["redis"] == "redis"
    muc_keys = site.redis.cli("--scan", "--pattern", "mdl_muc_*").split()
    site.measurements["MUC keys in Redis"] = str(len(muc_keys))
    assert muc_keys


def test_cached_javascript_is_handed_to_nginx(site: Site) -> None:
    """Moodle answers with X-Accel-Redirect to /localcachedir/...; nginx then serves the file itself."""
    browser = Browser()
    _, _, login_page = browser.open(site.web.base_url + "/login/index.php")
    script = re.search(r"/lib/javascript\.php/\d+/lib/javascript-static\.js", login_page)
    assert script

    with browser.opener.open(site.web.base_url + script[0], timeout=60) as response:
        size, etag = response.headers["Content-Length"], response.headers["ETag"]
        body = response.read()

    # nginx's own ETag for a static file: "<mtime hex>-<size hex>" (Moodle's would be a revision hash).
    match = re.fullmatch(r'"[0-9a-f]+-([0-9a-f]+)"', etag)
    assert match, etag
    assert int(match[1], 16) == int(size) == len(body)


def test_cron_once(site: Site) -> None:
    started = time.monotonic()
    result = run_entrypoint(site.env, image_contract.COMMAND_CRON, "--once", timeout=300)
    site.measurements["cron --once"] = f"{time.monotonic() - started:.1f} s"

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Cron run completed" in result.stdout


def test_second_install_or_upgrade_changes_nothing(site: Site) -> None:
    started = time.monotonic()
    result = run_entrypoint(site.env, image_contract.COMMAND_INSTALL_OR_UPGRADE, timeout=INSTALL_TIMEOUT)
    site.measurements["install-or-upgrade (nothing to do)"] = f"{time.monotonic() - started:.1f} s"

    assert result.returncode == 0, result.stderr
    assert "the database is up to date" in result.stderr
    assert "installing Moodle" not in result.stderr
    assert "upgrading Moodle" not in result.stderr


def test_web_server_logs_have_no_php_errors(site: Site) -> None:
    logs = site.web.logs()

    assert "PHP Fatal error" not in logs
    assert "PHP Warning" not in logs
