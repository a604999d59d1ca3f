"""A real public plugin through the whole path on real Moodle (opt-in: MOODLE_SRC and MOODLE_PLUGIN_SRC).

MOODLE_PLUGIN_SRC is a git clone of mod_customcert (https://github.com/mdjnelson/moodle-mod_customcert);
the test packs the pinned commit as a zip archive, as the plugins directory ships it, serves it on
loopback and builds it into the image through the build arguments that cdk.json's plugin list becomes,
with a language pack, then installs the site with install-or-upgrade and checks what Moodle sees: the
plugin installed, its page served, the forced settings shown as defined in config.php, unknown setting
names refused by check-settings. The plugin's code is never part of this repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from moodle_infra.forced_settings import FORCED_SETTINGS_VARIABLE
from moodle_infra.install_upgrade import handler
from tests.image.container import Container, run_container, web_url
from tests.image.image_testlib import EXIT_MISSING_PLUGINS, EXIT_UNKNOWN_SETTINGS, Redis
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import SOURCE_VARIABLE, RealImage, build_real_image
from tests.image.test_image_moodle import Browser, Deployment, login, new_deployment
from tests.image.test_image_plugins import make_language_pack, make_plugin_zip, sha256_of

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

PLUGIN_SOURCE_VARIABLE = "MOODLE_PLUGIN_SRC"
PLUGIN_COMPONENT = "mod_customcert"
PLUGIN_COMMIT = "0b953bc99fb59e94eb024e423ae66dc1f4cb1aa8"
"""MOODLE_500_STABLE, 5.0.5: requires Moodle 5.0 (2025041400) and is tested by its authors on 5.1."""
FORCED = {
    "core": {"lang": "en", "maxbytes": 104857600},
    "plugins": {"customcert": {"showposxy": 1}},
}
CHECK_SETTINGS = "/usr/local/lib/moodle-image/check-settings.php"


@dataclass
class PluginSite:
    image: RealImage
    deployment: Deployment
    web: Container


def plugin_archive(directory: Path) -> Path:
    source = os.environ.get(PLUGIN_SOURCE_VARIABLE)
    if not source:
        pytest.skip(f"set {PLUGIN_SOURCE_VARIABLE} to a git clone of mod_customcert to run (docs/IMAGE.md)")
    archive = directory / f"customcert-{PLUGIN_COMMIT[:8]}.zip"
    subprocess.run(
        ["git", "-C", source, "archive", "--format=zip", "--prefix=customcert/", "-o", str(archive),
         PLUGIN_COMMIT],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    return archive


@pytest.fixture(scope="module")
def plugin_site(
    release_dir: Path,
    release_url: str,
    mysql: MySQL,
    redis_tls: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PluginSite]:
    if not os.environ.get(SOURCE_VARIABLE):
        pytest.skip(f"set {SOURCE_VARIABLE} to a Moodle tree to run (docs/IMAGE.md)")
    archive = plugin_archive(release_dir)
    pack = make_language_pack(release_dir / "de.zip", code="de")
    minimal = make_plugin_zip(release_dir / "local_cfgtest.zip", component="local_cfgtest")
    plugins = [
        {"component": PLUGIN_COMPONENT, "url": f"{release_url}/{archive.name}", "sha256": sha256_of(archive)},
        {"component": "local_cfgtest", "url": f"{release_url}/{minimal.name}", "sha256": sha256_of(minimal)},
    ]
    packs = [{"code": "de", "url": f"{release_url}/de.zip", "sha256": sha256_of(pack)}]
    image = build_real_image(
        SOURCE_VARIABLE,
        release_dir,
        release_url,
        build_args={"MOODLE_PLUGINS": json.dumps(plugins), "MOODLE_LANGUAGE_PACKS": json.dumps(packs)},
        name="real-plugins",
    )
    root = tmp_path_factory.mktemp("plugin-site")
    root.chmod(0o755)
    deployment = new_deployment("moodle_plugins", root, mysql, redis_tls)
    deployment.env[FORCED_SETTINGS_VARIABLE] = json.dumps(FORCED)
    deployment.measurements.update(image.timings)
    installed = deployment.timed("install-or-upgrade with mod_customcert", image.tag, "install-or-upgrade")
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    web = deployment.start_web(image.tag, "web")
    yield PluginSite(image, deployment, web)
    web.stop()
    web.remove()
    print(f"\nmeasurements (plugins, {image.release}): " + json.dumps(deployment.measurements, indent=2))
    mysql.sql("DROP DATABASE moodle_plugins")


def test_moodle_lists_the_plugin_as_installed(plugin_site: PluginSite) -> None:
    result = plugin_site.deployment.run(
        plugin_site.image.tag, "php", "admin/cli/uninstall_plugins.php", "--show-all", timeout=120
    )
    assert result.returncode == 0, result.stderr
    line = next((line for line in result.stdout.splitlines() if PLUGIN_COMPONENT in line), "")
    assert line, result.stdout[-3000:]
    assert "Custom certificate" in line


def test_install_or_upgrade_created_the_minimal_plugins_table(plugin_site: PluginSite, mysql: MySQL) -> None:
    """local_cfgtest, made by the tests with a version.php and a db/install.xml: its table exists."""
    assert "mdl_cfgtest_entries" in mysql.sql("SHOW TABLES FROM moodle_plugins LIKE 'mdl_cfgtest_entries'")


def test_check_settings_reports_the_plugin_and_accepts_the_known_settings(plugin_site: PluginSite) -> None:
    started = time.monotonic()
    result = plugin_site.deployment.run(plugin_site.image.tag, "php", CHECK_SETTINGS, timeout=180)
    plugin_site.deployment.measurements["check-settings"] = f"{time.monotonic() - started:.1f} s"
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "check-settings: add-on plugin mod_customcert 5.0.5: version 2025041407 in the code, "
        "2025041407 in the database" in result.stderr
    )
    assert "check-settings: all 3 forced settings are known to Moodle" in result.stderr


def test_check_settings_names_an_unknown_setting(plugin_site: PluginSite) -> None:
    misspelt = {"core": {"maxbyte": 1}, "plugins": {"mod_customcert": {"showposxy": 1}}}
    result = run_container(
        plugin_site.image.tag,
        "php",
        CHECK_SETTINGS,
        env={**plugin_site.deployment.env, FORCED_SETTINGS_VARIABLE: json.dumps(misspelt)},
        mounts=plugin_site.deployment.mounts(),
        timeout=180,
    )
    assert result.returncode == EXIT_UNKNOWN_SETTINGS, result.stderr[-3000:]
    assert 'core setting "maxbyte" (moodle.settings.core.maxbyte)' in result.stderr
    assert (
        'setting "showposxy" of plugin "mod_customcert" (moodle.settings.plugins.mod_customcert.showposxy)'
        in (result.stderr)
    )


def test_the_plugin_page_is_served_and_its_forced_setting_shown_as_defined_in_config_php(
    plugin_site: PluginSite,
) -> None:
    browser = Browser()
    login(browser)
    status, _, page = browser.open(web_url("/mod/customcert/index.php?id=1"))
    assert status == 200
    assert "Custom certificate" in page
    status, _, settings = browser.open(web_url("/admin/settings.php?section=modsettingcustomcert"))
    assert status == 200
    # showposxy is the only setting of the page that config.php forces.
    assert "customcert_showposxy" in settings
    assert settings.count("Defined in config.php") == 1


def test_the_language_pack_is_read_from_the_image(plugin_site: PluginSite) -> None:
    bootstrap = "define('CLI_SCRIPT', true); require getenv('MOODLE_DIR') . '/config.php';"
    result = plugin_site.deployment.run(
        plugin_site.image.tag,
        "php",
        "-r",
        bootstrap
        + "echo json_encode([$CFG->langotherroot, get_string_manager()->get_list_of_translations(true)]);",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    directory, translations = json.loads(result.stdout)
    assert directory == "/var/www/moodle-lang"
    assert translations["de"].startswith("Test de"), "the name in the pack's langconfig.php"


# --- Removing the plugins from cdk.json (runs last: it uninstalls them) --------------------------------


def test_an_image_without_the_plugins_is_refused_until_cdk_json_says_to_uninstall_them(
    plugin_site: PluginSite, real_image: RealImage, mysql: MySQL
) -> None:
    """The release image without mod_customcert and local_cfgtest, deployed onto their site: the plan names
    them, every step refuses them, check-settings says they are missing; listed in
    moodle.uninstall_plugins, Moodle's uninstall removes them behind the maintenance page, and the next
    deploy changes nothing and never shows the page."""
    deployment = plugin_site.deployment
    plugin_site.web.stop()

    def step(name: str, **env: str) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = run_container(
            real_image.tag,
            "install-or-upgrade",
            env={**deployment.env, handler.STEP_VARIABLE: name, **env},
            mounts=deployment.mounts(),
            timeout=600,
        )
        deployment.measurements[f"plugins removed: step {name}{' (uninstall listed)' if env else ''}"] = (
            f"{time.monotonic() - started:.1f} s"
        )
        return result

    def plan(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
        match = handler.PLAN_LINE.search(result.stderr)
        assert match, result.stderr[-3000:]
        parsed: dict[str, object] = json.loads(match[1])
        return parsed

    refused_plan = step("plan")
    refused_all = step("all")
    # The refusal names every plugin the image lacks, mod_customcert's subplugins too: the list to copy.
    missing = sorted(plugin["component"] for plugin in plan(refused_plan)["missing"])  # type: ignore[attr-defined]
    # cdk.json without the plugins: no uninstall list yet, and no settings forced for them any more.
    uninstall = {
        "MOODLE_UNINSTALL_PLUGINS": ",".join(missing),
        FORCED_SETTINGS_VARIABLE: json.dumps({**FORCED, "plugins": {}}),
    }
    check = run_container(
        real_image.tag, "php", CHECK_SETTINGS, env=deployment.env, mounts=deployment.mounts(), timeout=180
    )
    maintenance_page = deployment.dataroot / "climaintenance.html"
    page_while_refused = maintenance_page.exists()
    listed_plan = step("plan", **uninstall)
    uninstalled = step("upgrade", **uninstall)
    page_after_uninstall = maintenance_page.exists()
    tables_after = mysql.sql("SHOW TABLES FROM moodle_plugins LIKE 'mdl_customcert%'")
    finished = step("finish", **uninstall)
    next_plan = step("plan", **uninstall)
    next_deploy = step("all", **uninstall)

    for refused in (refused_plan, refused_all):
        assert refused.returncode == EXIT_MISSING_PLUGINS, refused.stderr[-3000:]
        assert "the database holds add-on plugins this image lacks: " in refused.stderr
        assert "mod_customcert (version 2025041407)" in refused.stderr
        assert "local_cfgtest (version " in refused.stderr
    assert {"local_cfgtest", PLUGIN_COMPONENT, "customcertelement_text"} <= set(missing), missing
    for component in missing:
        assert f"{component} (version " in refused_plan.stderr
    assert not page_while_refused
    assert "maintenance mode on" not in refused_all.stderr
    assert "add-on plugin mod_customcert" in check.stderr
    assert "version missing in the code, 2025041407 in the database" in check.stderr

    assert listed_plan.returncode == 0, listed_plan.stderr[-3000:]
    assert plan(listed_plan)["action"] == "upgrade"
    assert sorted(plan(listed_plan)["uninstall"]) == missing  # type: ignore[call-overload]
    assert uninstalled.returncode == 0, uninstalled.stderr[-3000:]
    assert "maintenance mode on (uninstall " in uninstalled.stderr
    assert page_after_uninstall
    assert tables_after.strip() == ""
    assert finished.returncode == 0 and "MAINTENANCE LIFTED" in finished.stderr, finished.stderr[-3000:]

    assert next_plan.returncode == 0, next_plan.stderr[-3000:]
    assert plan(next_plan)["action"] == "none", plan(next_plan)
    assert next_deploy.returncode == 0, next_deploy.stderr[-3000:]
    assert "maintenance mode on" not in next_deploy.stderr
    assert "the database is up to date" in next_deploy.stderr
