"""The built image running real Moodle end to end (opt-in: MOODLE_SRC=/path/to/moodle; docs/IMAGE.md).

The tree in MOODLE_SRC becomes the image's release through the Dockerfile's own release step. Everything
then runs in containers of that image, as ECS runs them, against MySQL and Redis (TLS and AUTH, as
ElastiCache) on loopback: install-or-upgrade, web, cron, and install-or-upgrade again.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, Mount, run_container, start_web, web_url
from tests.image.image_testlib import Redis, make_runtime_dir, moodle_env
from tests.image.mysql_server import AUTH_PLUGIN, MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_built import PHP_EXTENSIONS

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

ADMIN_USER, ADMIN_PASSWORD = "admin", "Admin-Password-1!"
INSTALL_TIMEOUT = 600
REDIS_CA = "/run/redis-ca.crt"


@dataclass
class Deployment:
    """One environment's state: a database and an EFS data directory, used by images in turn."""

    env: dict[str, str]
    dataroot: Path
    redis: Redis
    measurements: dict[str, str] = field(default_factory=dict)

    def mounts(self) -> list[Mount]:
        return [(self.dataroot, image_contract.SHARED_DATA_PATH), (self.redis.ca_file, REDIS_CA, "ro")]

    def run(
        self, image: str, *command: str, timeout: float = INSTALL_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        return run_container(image, *command, env=self.env, mounts=self.mounts(), timeout=timeout)

    def timed(self, what: str, image: str, *command: str) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = self.run(image, *command)
        self.measurements[what] = f"{time.monotonic() - started:.1f} s"
        return result

    def start_web(self, image: str, what: str) -> Container:
        container = start_web(image, env=self.env, mounts=self.mounts())
        self.measurements[f"{what}: start to healthy"] = f"{container.seconds_to_healthy:.1f} s"
        return container


def new_deployment(name: str, root: Path, mysql: MySQL, redis: Redis) -> Deployment:
    mysql.sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4")
    redis.cli("FLUSHALL")
    env = moodle_env(
        MOODLE_DB_PORT=str(mysql.port),
        MOODLE_DB_NAME=name,
        MOODLE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MOODLE_REDIS_HOST="localhost",
        MOODLE_REDIS_PORT=str(redis.port),
        MOODLE_REDIS_TLS="true",
        MOODLE_REDIS_AUTH=redis.password,
        MOODLE_REDIS_CAFILE=REDIS_CA,
    )
    return Deployment(env, make_runtime_dir(root / name), redis)


@dataclass
class Site:
    image: RealImage
    deployment: Deployment
    web: Container


@pytest.fixture(scope="module")
def site(
    real_image: RealImage, mysql: MySQL, redis_tls: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    root.chmod(0o755)
    deployment = new_deployment("moodle_integration", root, mysql, redis_tls)
    deployment.measurements.update(real_image.timings)

    installed = deployment.timed("install-or-upgrade (install)", real_image.tag, "install-or-upgrade")
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    assert "installing Moodle" in installed.stderr

    web = deployment.start_web(real_image.tag, "web")
    yield Site(real_image, deployment, web)
    logs = web.logs()
    status = web.stop()
    web.remove()
    print(f"\nmeasurements ({real_image.release}): " + json.dumps(deployment.measurements, indent=2))
    assert status == 0, logs[-3000:]
    mysql.sql("DROP DATABASE moodle_integration")


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


def login(browser: Browser) -> tuple[int, str, str]:
    """Logs the admin in and opens the dashboard; returns its status, final URL and page."""
    _, _, login_page = browser.open(web_url("/login/index.php"))
    credentials = {"username": ADMIN_USER, "password": ADMIN_PASSWORD, "logintoken": logintoken(login_page)}
    browser.open(web_url("/login/index.php"), credentials)
    return browser.open(web_url("/my/"))


def test_login_page(site: Site) -> None:
    status, _, page = Browser().open(web_url("/login/index.php"))

    assert status == 200
    assert 'id="login"' in page
    assert logintoken(page)


def test_admin_logs_in_with_the_session_in_redis(site: Site) -> None:
    browser = Browser()
    started = time.monotonic()

    status, url, dashboard = login(browser)

    site.deployment.measurements["login and dashboard"] = (
        f"{browser.requests} requests in {time.monotonic() - started:.2f} s"
    )
    assert status == 200
    assert url.endswith("/my/")
    assert "login/logout.php?sesskey=" in dashboard
    session_id = browser.cookie("MoodleSession")
    session_keys = site.deployment.redis.cli("--scan", "--pattern", f"*{session_id}*").split()
    assert f"mdl_session_{session_id}" in session_keys


def php(site: Site, code: str) -> subprocess.CompletedProcess[str]:
    """PHP code run by the image's CLI after Moodle's full bootstrap."""
    bootstrap = "define('CLI_SCRIPT', true); require getenv('MOODLE_DIR') . '/config.php';"
    return site.deployment.run(site.image.tag, "php", "-r", bootstrap + code, timeout=120)


def test_moodle_runs_on_mysql_through_the_mysqli_driver(site: Site) -> None:
    """Production's path: the mysqli driver on MySQL (not MariaDB), logged in with caching_sha2_password."""
    result = php(
        site,
        "echo json_encode(['driver' => get_class($DB), 'vendor' => $DB->get_dbvendor(),"
        " 'plugin' => $DB->get_field_sql('SELECT plugin FROM mysql.user WHERE user = ?', [$CFG->dbuser])]);",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "driver": "mysqli_native_moodle_database",
        "vendor": "mysql",
        "plugin": AUTH_PLUGIN,
    }


def test_application_and_session_caches_are_stored_in_redis(site: Site) -> None:
    result = php(
        site,
        "$config = \\core_cache\\config::instance();"
        "echo json_encode(['mappings' => $config->get_mode_mappings(),"
        " 'stores' => array_map(fn($store) => $store['plugin'], $config->get_all_stores())]);",
    )

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    stores_by_mode = {mode: [m["store"] for m in cache["mappings"] if m["mode"] == mode] for mode in (1, 2)}
    assert stores_by_mode == {1: ["redis"], 2: ["redis"]}, "application (1) and session (2) modes"
    assert cache["stores"]["redis"] == "persistentredis"
    assert site.deployment.redis.cli("--scan", "--pattern", "mdl_muc_*").split()


def test_caches_moodle_lets_live_per_server_are_on_local_disk(site: Site) -> None:
    """Definitions marked canuselocalstore go to a file store under localcachedir, never EFS; no others do."""
    result = php(
        site,
        "$config = \\core_cache\\config::instance();"
        "$local = [];"
        "foreach ($config->get_definition_mappings() as $m) { $local[$m['definition']][] = $m['store']; }"
        "$wanted = array_keys(array_filter($config->get_definitions(),"
        " fn($d) => !empty($d['canuselocalstore']) && (int) $d['mode'] === 1));"
        "echo json_encode(['mapped' => $local, 'wanted' => $wanted,"
        " 'store' => $config->get_all_stores()['local'], 'localcachedir' => $CFG->localcachedir]);",
    )

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    assert len(cache["wanted"]) >= 5, cache["wanted"]
    assert cache["mapped"] == {name: ["local"] for name in cache["wanted"]}, "these and no others"
    assert cache["store"]["plugin"] == "file"
    assert cache["store"]["configuration"]["path"] == cache["localcachedir"] + "/muc"
    assert not cache["localcachedir"].startswith(image_contract.SHARED_DATA_PATH)


def test_moodles_own_environment_check_passes(site: Site) -> None:
    """Moodle's environment check for its own release: PHP version, extensions, settings."""
    result = php(
        site,
        "require_once($CFG->libdir . '/environmentlib.php');"
        "[$ok, $results] = check_moodle_environment(normalize_version($CFG->release), ENV_SELECT_RELEASE);"
        "foreach ($results as $r) { if (!$r->getStatus()) {"
        " echo $r->getLevel(), ' ', $r->getPart(), ' ', $r->getInfo(), PHP_EOL; } }"
        "echo $ok ? 'environment ok' : 'environment failed', PHP_EOL;",
    )

    assert result.returncode == 0, result.stderr
    failures = result.stdout.splitlines()
    assert failures[-1] == "environment ok", result.stdout
    assert not [line for line in failures[:-1] if line.startswith("required")], result.stdout


def test_moodles_environment_check_for_the_53_lts_passes(site: Site) -> None:
    """The image and the database meet Moodle 5.3 by Moodle's own check, from this release's environment.xml,
    which carries the later branches' sections too (5.1.6's has 5.3's): PHP, extensions, settings, database.
    A database below 5.3's minimum (MariaDB 10.11) fails it."""
    result = php(
        site,
        "require_once($CFG->libdir . '/environmentlib.php');"
        "if (get_latest_version_available('5.3', ENV_SELECT_RELEASE) !== '5.3') {"
        " echo 'no 5.3', PHP_EOL; exit; }"
        "[$ok, $results] = check_moodle_environment('5.3', ENV_SELECT_RELEASE);"
        "foreach ($results as $r) { if (!$r->getStatus() && $r->getLevel() === 'required') {"
        " echo $r->getPart(), ' ', $r->getInfo(), ' ', $r->getCurrentVersion(), PHP_EOL; } }"
        "echo $ok ? 'environment ok' : 'environment failed', PHP_EOL;",
    )

    assert result.returncode == 0, result.stderr
    if result.stdout.strip() == "no 5.3":
        pytest.skip(f"the environment.xml of {site.image.release} has no section for 5.3")
    assert result.stdout.splitlines() == ["environment ok"], result.stdout


def test_the_image_has_every_extension_the_release_asks_for(site: Site) -> None:
    """The image tests' extension list covers this release's environment.xml, recommended ones included."""
    result = php(
        site,
        "$xml = simplexml_load_file($CFG->dirroot . '/admin/environment.xml');"
        "$branch = moodle_major_version();"
        "foreach ($xml->xpath(\"//MOODLE[@version='$branch']/PHP_EXTENSIONS/PHP_EXTENSION\") as $e) {"
        " echo $e['name'], PHP_EOL; }",
    )

    assert result.returncode == 0, result.stderr
    asked_for = set(result.stdout.split())
    assert asked_for
    assert asked_for <= set(PHP_EXTENSIONS)


def test_cached_javascript_is_handed_to_nginx(site: Site) -> None:
    """Moodle answers with X-Accel-Redirect to /localcachedir/...; nginx then serves the file itself."""
    browser = Browser()
    _, _, login_page = browser.open(web_url("/login/index.php"))
    script = re.search(r"/lib/javascript\.php/\d+/lib/javascript-static\.js", login_page)
    assert script

    with browser.opener.open(web_url(script[0]), timeout=60) as response:
        size, etag = response.headers["Content-Length"], response.headers["ETag"]
        body = response.read()

    # nginx's own ETag for a static file: "<mtime hex>-<size hex>" (Moodle's would be a revision hash).
    match = re.fullmatch(r'"[0-9a-f]+-([0-9a-f]+)"', etag)
    assert match, etag
    assert int(match[1], 16) == int(size) == len(body)


def test_cron_once(site: Site) -> None:
    result = site.deployment.timed("cron --once", site.image.tag, image_contract.COMMAND_CRON, "--once")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Cron run completed" in result.stdout


def test_second_install_or_upgrade_changes_nothing(site: Site) -> None:
    result = site.deployment.timed(
        "install-or-upgrade (nothing to do)", site.image.tag, image_contract.COMMAND_INSTALL_OR_UPGRADE
    )

    assert result.returncode == 0, result.stderr
    assert "the database is up to date" in result.stderr
    assert "installing Moodle" not in result.stderr
    assert "upgrading Moodle" not in result.stderr
    # configure-cache.php is idempotent: the stores and mappings of the first run stand.
    assert "per-task ones under localcachedir" in result.stdout
    for change in ("Created the cache store", "Updated the cache store", "Mapped"):
        assert change not in result.stdout


def test_web_server_logs_have_no_php_errors(site: Site) -> None:
    logs = site.web.logs()

    assert "PHP Fatal error" not in logs
    assert "PHP Warning" not in logs
