"""Real Moodle when things fail, as an operator meets it (opt-in: MOODLE_SRC; issue 22): every failure of the
image's scripts speaks on stderr with a documented exit code, a stopped database answers the same 503 as a
stopped Redis, Redis down stops install-or-upgrade with exit code 6 and says so, the plan step changes
nothing in the database, and anonymous requests for files that are no entry point get 404 from nginx while
the pages a browser needs still load. Each has a negative control: the same request or run with the file
as it was before the fix (the shipped file with the fix cut out, errors_testlib.before_the_fix).

The database is reached through a loopback proxy (errors_testlib.TcpProxy) that the tests stop and start:
to Moodle, exactly a database server that went away, whichever server the fixture runs.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, Mount, free_port, run_container, start_web, web_url
from tests.image.errors_testlib import (
    HANDLER_CALL,
    HELPER_DIR,
    PLAN_LEAVES_THE_FLAG,
    TcpProxy,
    before_the_fix,
    config_php_before_the_fix,
    documented_exit_codes,
    error_lines,
    write_world_readable,
)
from tests.image.image_testlib import (
    EXIT_CACHE_SETUP_FAILED,
    EXIT_DATABASE_TIMEOUT,
    IMAGE_DIR,
    Redis,
)
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import SOURCE_VARIABLE, RealImage, source_tree
from tests.image.test_image_moodle import Browser, Deployment, login, new_deployment

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

INSTALL = image_contract.COMMAND_INSTALL_OR_UPGRADE
EXIT_UNEXPECTED = 1
SILENT_FATAL = 255
OUTAGE_PAGE = "The site is briefly unavailable. Please try again in a few seconds.\n"
"""What image/bin/outage.php answers, for Redis and the database alike."""


@dataclass
class Site:
    image: RealImage
    deployment: Deployment
    database: TcpProxy
    root: Path

    def start_web(self, *extra_mounts: Mount) -> Container:
        return start_web(
            self.image.tag, env=self.deployment.env, mounts=[*self.deployment.mounts(), *extra_mounts]
        )

    def run(
        self, *command: str, mounts: list[Mount] | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return run_container(
            self.image.tag, *command,
            env={**self.deployment.env, **env}, mounts=[*self.deployment.mounts(), *(mounts or [])],
            timeout=600,
        )  # fmt: skip

    def old_file(self, name: str, text: str) -> Path:
        return write_world_readable(self.root / "old" / name, text)


@pytest.fixture(scope="module")
def site(
    real_image: RealImage, mysql: MySQL, redis_tls: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("errors")
    root.chmod(0o755)
    deployment = new_deployment("moodle_errors", root, mysql, redis_tls)
    database = TcpProxy(mysql.port).start()
    deployment.env["MOODLE_DB_PORT"] = str(database.port)
    installed = deployment.run(real_image.tag, INSTALL)
    assert installed.returncode == 0, installed.stderr[-3000:]
    yield Site(real_image, deployment, database, root)
    database.stop()
    mysql.sql("DROP DATABASE moodle_errors")


def get(path: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", image_contract.CONTAINER_PORT, timeout=60)
    connection.request("GET", path)
    response = connection.getresponse()
    answer = (
        response.status,
        {name.lower(): value for name, value in response.getheaders()},
        response.read().decode(errors="replace"),
    )
    connection.close()
    return answer


def old_config(site: Site) -> Mount:
    return (site.old_file("config.php", config_php_before_the_fix()), "/var/www/moodle/config.php", "ro")


# --- A stopped database ---------------------------------------------------------------------------------


def while_the_database_is_stopped(site: Site, web: Container, path: str) -> tuple[int, dict[str, str], str]:
    try:
        assert get(path)[0] == 200, "the page works while the database does"
        site.database.stop()
        return get(path)
    finally:
        site.database.start()


def test_a_stopped_database_answers_the_same_503_as_redis(site: Site) -> None:
    web = site.start_web()
    try:
        status, headers, body = while_the_database_is_stopped(site, web, "/login/index.php")
        after = get("/login/index.php")[0]
        logs = web.logs()
    finally:
        web.remove()

    assert status == 503, body[:2000]
    assert headers["retry-after"] == "5"
    assert headers["cache-control"] == "no-store"
    assert body == OUTAGE_PAGE
    assert str(site.database.port) not in body
    assert "The database is unavailable" in logs, "the reason is logged for the operator"
    assert after == 200, "the site serves again as soon as the database answers"


def test_negative_control_a_stopped_database_answered_500_before(site: Site) -> None:
    web = site.start_web(old_config(site))
    try:
        status, headers, _ = while_the_database_is_stopped(site, web, "/login/index.php")
    finally:
        web.remove()

    assert status == 500
    assert "retry-after" not in headers


def test_cron_with_the_database_stopped_says_why_on_stderr(site: Site) -> None:
    site.database.stop()
    try:
        cron = site.run("cron", "--once")
        old_cron = site.run(
            "php", "/var/www/moodle/admin/cli/cron.php", "--keep-alive=0", mounts=[old_config(site)]
        )
    finally:
        site.database.start()

    assert cron.returncode == EXIT_DATABASE_TIMEOUT
    [line] = error_lines(cron.stderr, "cron")
    assert f"the database at 127.0.0.1:{site.database.port} is not reachable: " in line
    assert "<" not in cron.stdout + cron.stderr
    # Negative control: Moodle's cron.php as the image ran it before, with config.php before the fix.
    assert old_cron.returncode == 1
    assert "<p>" in old_cron.stdout
    assert "Database connection failed" not in old_cron.stderr


AFTER_BOOTSTRAP = "// Moodle's bootstrap has replaced the exception handler.\n" + HANDLER_CALL
"""Where the scripts that bootstrap Moodle fully take their error reporting back."""


# --- Redis down -----------------------------------------------------------------------------------------


CACHE_SETUP_FAILURE = "moodle_image_die(EXIT_CACHE_SETUP_FAILED,"
"""configure-cache's call when Redis does not answer; clilib's cli_error() before the fix."""


def test_redis_down_stops_install_or_upgrade_with_exit_6_and_says_so(site: Site) -> None:
    closed_port = str(free_port())
    configure_cache = (IMAGE_DIR / "bin" / "configure-cache.php").read_text()
    # configure-cache as it was: clilib's cli_error(), and Moodle's exception handler after the bootstrap.
    old = site.old_file(
        "configure-cache.php",
        before_the_fix(
            before_the_fix(configure_cache, CACHE_SETUP_FAILURE, replacement="cli_error("),
            AFTER_BOOTSTRAP,
        ),
    )

    result = site.run(INSTALL, MOODLE_REDIS_PORT=closed_port)
    old_result = site.run(
        INSTALL, MOODLE_REDIS_PORT=closed_port, mounts=[(old, f"{HELPER_DIR}/configure-cache.php", "ro")]
    )

    assert result.returncode == EXIT_CACHE_SETUP_FAILED
    [line] = error_lines(result.stderr, "configure-cache")
    assert re.search(rf"Redis at localhost:{closed_port} is not reachable", line), line
    assert "configuring the Redis cache store failed with status 6" in result.stderr
    # Negative control: configure-cache calling clilib's cli_error(), which Moodle's bootstrap does not load.
    assert "Call to undefined function cli_error()" in old_result.stdout + old_result.stderr
    assert "is not reachable" not in old_result.stdout + old_result.stderr


# --- A forced fatal in each script ----------------------------------------------------------------------

FATAL = (
    "ini_set('memory_limit', (string) (memory_get_usage() + (8 << 20)));"
    " $forced = str_repeat('x', 1 << 26);\n"
)
"""A PHP fatal error (memory exhausted), forced right after Moodle's bootstrap, where error_reporting is 0."""


@pytest.mark.parametrize(
    "script", ["configure-cache", "check-settings", "upgrade-plan", "clear-upgrade-flag"]
)
def test_a_fatal_error_after_moodles_bootstrap_is_reported_with_exit_1(site: Site, script: str) -> None:
    path = f"{HELPER_DIR}/{script}.php"
    shipped = (IMAGE_DIR / "bin" / f"{script}.php").read_text()
    forced = before_the_fix(shipped, AFTER_BOOTSTRAP, replacement=AFTER_BOOTSTRAP + FATAL)
    # Negative control: the same fatal in the script as it was, without its handlers.
    silent = before_the_fix(forced, HANDLER_CALL)

    result = site.run("php", path, mounts=[(site.old_file(f"forced-{script}.php", forced), path, "ro")])
    control = site.run("php", path, mounts=[(site.old_file(f"silent-{script}.php", silent), path, "ro")])

    assert result.returncode == EXIT_UNEXPECTED, result.stdout[-2000:] + result.stderr[-2000:]
    [line] = error_lines(result.stderr, script)
    assert "PHP fatal error: Allowed memory size of " in line
    assert f"{script}.php:" in line
    assert control.returncode == SILENT_FATAL
    assert SILENT_FATAL not in documented_exit_codes()
    assert "memory" not in control.stdout + control.stderr


def test_an_uncaught_error_in_moodles_cron_is_reported_with_exit_1(site: Site) -> None:
    """Moodle's cron collects garbage (gc_collect_cycles) after each run of its tasks, which its bootstrap
    never does; without the function PHP throws there."""
    directory = site.root / "without-gc_collect_cycles"
    write_world_readable(directory / "99-forced.ini", "disable_functions = gc_collect_cycles\n")
    scan = {"PHP_INI_SCAN_DIR": f"/etc/php/8.4/cli/conf.d:{directory}"}

    result = site.run("cron", "--once", mounts=[(directory, str(directory), "ro")], **scan)

    assert result.returncode == EXIT_UNEXPECTED, result.stdout[-2000:] + result.stderr[-2000:]
    [line] = error_lines(result.stderr, "cron")
    # cron.php is in namespace core: PHP names the function it looked for last.
    assert "Call to undefined function core\\gc_collect_cycles() at " in line
    assert "/lib/classes/cron.php:" in line


# --- The plan step --------------------------------------------------------------------------------------


def table_checksums(mysql: MySQL, database: str) -> dict[str, str]:
    tables = mysql.sql(f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{database}'")
    names = ", ".join(f"{database}.{name}" for name in tables.split())
    return dict(line.split("\t") for line in mysql.sql(f"CHECKSUM TABLE {names}").splitlines())


@pytest.mark.parametrize(
    "expires", ["UNIX_TIMESTAMP() + 300", "UNIX_TIMESTAMP() - 60"], ids=["fresh", "expired"]
)
def test_the_plan_step_changes_nothing_in_the_database(site: Site, mysql: MySQL, expires: str) -> None:
    """Not even a stale upgrade flag, which Moodle's own bootstrap refuses (fresh) or deletes (expired)."""
    database = site.deployment.env["MOODLE_DB_NAME"]
    install_or_upgrade = f"{HELPER_DIR}/install-or-upgrade.php"
    old = site.old_file(
        "install-or-upgrade.php",
        before_the_fix((IMAGE_DIR / "bin" / "install-or-upgrade.php").read_text(), PLAN_LEAVES_THE_FLAG),
    )
    changed = {}
    old_mounts: list[Mount] = [(old, install_or_upgrade, "ro")]
    for name, mounts in (("shipped", []), ("before the fix", old_mounts)):
        mysql.sql(f"INSERT INTO {database}.mdl_config (name, value) VALUES ('upgraderunning', {expires})")
        try:
            before = table_checksums(mysql, database)
            plan = site.run(INSTALL, mounts=mounts, MOODLE_INSTALL_OR_UPGRADE_STEP="plan")
            after = table_checksums(mysql, database)
        finally:
            mysql.sql(f"DELETE FROM {database}.mdl_config WHERE name = 'upgraderunning'")
        assert plan.returncode == 0, plan.stderr[-3000:]
        assert '"action":"none"' in plan.stderr
        assert len(before) > 400
        changed[name] = [table for table, checksum in after.items() if before[table] != checksum]

    assert changed["shipped"] == []
    # Negative control: the plan step as it was cleared the flag.
    assert changed["before the fix"] == [f"{database}.mdl_config"]


# --- Files that are no entry point ----------------------------------------------------------------------

KINDS = ("classes", "db", "lang", "templates", "cli", "amd/src", "yui/src")
"""The directories nginx refuses (nginx.conf), as Moodle's layout names them."""


def files_of(webroot: Path) -> list[str]:
    """Every file of the web root, relative, sorted; tests/ aside (refused by an older rule)."""
    files = (str(path.relative_to(webroot)) for path in webroot.rglob("*") if path.is_file())
    return sorted(name for name in files if "/tests/" not in f"/{name}")


def samples(files: list[str], kind: str, count: int, suffix: str = "") -> list[str]:
    """Up to `count` files under directories of this kind, spread over the tree (every n-th)."""
    matching = [
        name for name in files if f"/{kind}/" in f"/{name.rsplit('/', 1)[0]}/" and name.endswith(suffix)
    ]
    assert matching, kind
    step = max(1, len(matching) // count)
    return ["/" + name for name in matching[::step][:count]]


def webroot_of(tree: Path) -> Path:
    return tree / "public" if (tree / "public").is_dir() else tree


def access_log_statuses(logs: str) -> list[int]:
    """Statuses of the moodle access log lines (nginx.conf's log_format: the status follows the request)."""
    return [int(status) for status in re.findall(r'" (\d{3}) \d+ "', logs)]


def test_anonymous_requests_for_class_files_get_404_and_page_nobody(site: Site) -> None:
    class_files = samples(files_of(webroot_of(source_tree(SOURCE_VARIABLE))), "classes", 50, ".php")
    web = site.start_web()
    try:
        statuses = [get(path)[0] for path in class_files]
        logs = web.logs()
    finally:
        web.remove()

    assert len(class_files) == 50
    assert statuses == [404] * 50
    assert [status for status in access_log_statuses(logs) if status >= 500] == []


def test_negative_control_class_files_answered_500_before(site: Site) -> None:
    nginx = (IMAGE_DIR / "nginx" / "nginx.conf").read_text()
    start = nginx.index("        # No entry point either:")
    end = nginx.index("        # Moodle's router")
    old = site.old_file("nginx.conf", before_the_fix(nginx, nginx[start:end]))
    web = site.start_web((old, "/etc/nginx/nginx.conf", "ro"))
    try:
        status = get("/cache/stores/persistentredis/classes/session_handler.php")[0]
    finally:
        web.remove()

    assert status == 500


def test_every_kind_of_file_that_is_no_entry_point_gets_404(site: Site) -> None:
    files = files_of(webroot_of(source_tree(SOURCE_VARIABLE)))
    paths = {kind: samples(files, kind, 5) for kind in KINDS}
    web = site.start_web()
    try:
        answers = {kind: [get(path)[0] for path in kind_paths] for kind, kind_paths in paths.items()}
        config_suffixes = [get(path)[0] for path in ("/config.php", "/config.php/", "/config.php/x.php")]
    finally:
        web.remove()

    assert answers == {kind: [404] * len(kind_paths) for kind, kind_paths in paths.items()}, paths
    assert config_suffixes == [404, 404, 404]


def test_what_a_browser_needs_still_loads(site: Site) -> None:
    web = site.start_web()
    try:
        browser = Browser()
        status, url, dashboard = login(browser)
        assets = re.findall(
            r'(?:href|src)="(http://127\.0\.0\.1:8080/(?:theme/styles\.php|lib/requirejs\.php|lib/javascript\.php|'
            r'theme/image\.php|theme/yui_combo\.php)[^"]*)"',
            dashboard,
        )
        loaded = {asset.split(".php")[0] + ".php": get(asset.removeprefix(web_url()))[0] for asset in assets}
        routed = browser.open(web_url("/api/rest/v2/core/templates/boost/core/loading"))
        # A user file named like a path nginx refuses: Moodle (not nginx) answers, here "not found".
        pluginfile = get("/pluginfile.php/1/core/classes/db/lang/picture.png")
    finally:
        web.remove()

    assert (status, url.endswith("/my/")) == (200, True)
    assert "http://127.0.0.1:8080/theme/styles.php" in loaded
    assert (
        "http://127.0.0.1:8080/lib/requirejs.php" in loaded
        or "http://127.0.0.1:8080/lib/javascript.php" in loaded
    )
    assert set(loaded.values()) == {200}, loaded
    assert routed[0] == 200
    assert isinstance(json.loads(routed[2]), dict)
    assert pluginfile[0] in (303, 404), pluginfile[:2]
    assert "nginx" not in pluginfile[2]
