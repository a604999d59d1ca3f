"""Plugins and language packs from cdk.json, built into the image by image/build/install-plugins.php.

The helper's refusals (checksum, component name, supported releases) run fast in the Dockerfile's build
stage, where a real build runs it (the image's PHP and extensions, git), against a Moodle-shaped tree; one
build of the real Dockerfile shows the plugin and the language pack in the image, where Moodle looks for
them, and config.php pointing Moodle at the packs and forcing the settings.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.image.conftest import FAKE_RELEASE_VERSION, make_fake_release
from tests.image.container import (
    build_image,
    checkout_tag,
    loopback_file_server,
    pack_release,
    require_podman,
    run_container,
)
from tests.image.image_testlib import EXIT_CONFIG
from tests.image.test_image_config_php import REQUIRED, ConfigRun, load_config, run_config

__all__ = ["run_config"]  # the fixture, imported to evaluate config.php

HELPER_IN_IMAGE = "/usr/local/lib/moodle-build/install-plugins.php"
"""Where the Dockerfile puts image/build/install-plugins.php in its build stage."""
CORE_VERSION = "2025100606.00"
CORE_BRANCH = "501"
LANGUAGE_DIR_IN_IMAGE = "/var/www/moodle-lang"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_plugin_zip(
    path: Path,
    *,
    component: str,
    declared: str | None = None,
    requires: str = "2024100700",
    supported: tuple[int, int] = (500, 501),
) -> Path:
    """A minimal plugin as Moodle's plugins directory ships one: ``<name>/``, version.php, db/install.xml."""
    name = component.split("_", 1)[1]
    table = f"{component.split('_', 1)[1]}_entries"
    version_php = (
        "<?php\ndefined('MOODLE_INTERNAL') || die();\n"
        f"$plugin->component = '{declared or component}';\n$plugin->version = 2026010100;\n"
        f"$plugin->requires = {requires};\n$plugin->supported = [{supported[0]}, {supported[1]}];\n"
        "$plugin->maturity = MATURITY_STABLE;\n$plugin->release = '1.0';\n"
    )
    install_xml = (
        f'<?xml version="1.0" encoding="UTF-8" ?>\n'
        f'<XMLDB PATH="local/{name}/db" VERSION="2026010100" COMMENT="Test plugin {name}">\n'
        f'<TABLES><TABLE NAME="{table}" COMMENT="Entries"><FIELDS>'
        '<FIELD NAME="id" TYPE="int" LENGTH="10" NOTNULL="true" SEQUENCE="true"/></FIELDS>'
        '<KEYS><KEY NAME="primary" TYPE="primary" FIELDS="id"/></KEYS></TABLE></TABLES></XMLDB>\n'
    )
    language = f"<?php\n$string['pluginname'] = 'Test plugin {name}';\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/version.php", version_php)
        archive.writestr(f"{name}/db/install.xml", install_xml)
        archive.writestr(f"{name}/lang/en/{component}.php", language)
    return path


def make_language_pack(path: Path, *, code: str) -> Path:
    """A language pack as download.moodle.org ships one: ``<code>/langconfig.php`` and string files."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{code}/langconfig.php", f"<?php\n$string['thislanguage'] = 'Test {code}';\n")
        archive.writestr(f"{code}/moodle.php", "<?php\n$string['login'] = 'Anmelden';\n")
    return path


def make_tree(root: Path) -> Path:
    """A fake release in 5.1's layout with what the helper reads: version.php and Moodle's plugin-type map."""
    tree = make_fake_release(root, public_layout=True)
    (tree / "config.php").unlink()
    (tree / "public" / "version.php").write_text(
        f"<?php\n$version = {CORE_VERSION};\n$release = '{FAKE_RELEASE_VERSION} (Build: 20260810)';\n"
        f"$branch = '{CORE_BRANCH}';\n"
    )
    types = {"mod": "public/mod", "local": "public/local"}
    (tree / "lib" / "components.json").write_text(json.dumps({"plugintypes": types, "subsystems": {}}))
    for directory in types.values():
        (tree / directory).mkdir(parents=True, exist_ok=True)
    # A subplugin type, declared by a plugin of the release as Moodle 5.1's mod_assign does.
    (tree / "public/mod/assign/db").mkdir(parents=True)
    (tree / "public/mod/assign/submission").mkdir()
    (tree / "public/mod/assign/db/subplugins.json").write_text(
        json.dumps({"plugintypes": {"assignsubmission": "mod/assign/submission"}})
    )
    return tree


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served on loopback, where the tests put plugin archives and language packs."""
    directory = tmp_path / "served"
    directory.mkdir()
    with loopback_file_server(directory) as url:
        yield directory, url


@dataclass(frozen=True)
class Helper:
    """The build helper as the Dockerfile runs it: the image's copy, in its build stage, on trees under
    `workdir` (mounted at the same path)."""

    stage: str
    workdir: Path

    def run(
        self,
        tree: Path,
        language_dir: Path,
        *,
        plugins: list[dict[str, str]],
        packs: list[dict[str, str]] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {"MOODLE_PLUGINS": json.dumps(plugins), "MOODLE_LANGUAGE_PACKS": json.dumps(packs or [])}
        return run_container(
            self.stage, "php", HELPER_IN_IMAGE, str(tree), str(language_dir),
            env=env, mounts=[(self.workdir, str(self.workdir))],
        )  # fmt: skip


@pytest.fixture
def helper(fake_build_stage: str, tmp_path: Path) -> Helper:
    return Helper(fake_build_stage, tmp_path)


def plugin_entry(archive: Path, url: str, component: str) -> dict[str, str]:
    return {"component": component, "url": f"{url}/{archive.name}", "sha256": sha256_of(archive)}


@pytest.mark.container
def test_helper_places_plugins_and_language_packs_where_moodle_looks(
    helper: Helper, tmp_path: Path, served: tuple[Path, str]
) -> None:
    directory, url = served
    tree, language_dir = make_tree(tmp_path / "tree"), tmp_path / "lang"
    local = make_plugin_zip(directory / "local.zip", component="local_cfgtest")
    sub = make_plugin_zip(directory / "sub.zip", component="assignsubmission_cfgtest")
    pack = make_language_pack(directory / "de.zip", code="de")
    result = helper.run(
        tree,
        language_dir,
        plugins=[
            plugin_entry(local, url, "local_cfgtest"),
            plugin_entry(sub, url, "assignsubmission_cfgtest"),
        ],
        packs=[{"code": "de", "url": f"{url}/de.zip", "sha256": sha256_of(pack)}],
    )
    assert result.returncode == 0, result.stderr
    assert (tree / "public/local/cfgtest/version.php").is_file()
    assert (tree / "public/local/cfgtest/db/install.xml").is_file()
    assert (tree / "public/mod/assign/submission/cfgtest/version.php").is_file()
    assert (language_dir / "de" / "langconfig.php").is_file()
    assert "installed local_cfgtest 1.0 (version 2026010100) in public/local/cfgtest" in result.stdout


@pytest.mark.container
@pytest.mark.parametrize(
    ("plugin", "tamper", "expected"),
    [
        pytest.param(
            {"component": "local_cfgtest"},
            "checksum",
            "plugin local_cfgtest: the SHA-256 of http://",
            id="wrong checksum",
        ),
        pytest.param(
            {"component": "local_cfgtest", "declared": "local_other"},
            None,
            "plugin local_cfgtest: its version.php declares $plugin->component = 'local_other', "
            "not 'local_cfgtest'",
            id="wrong component name",
        ),
        pytest.param(
            {"component": "local_cfgtest", "supported": (402, 405)},
            None,
            "plugin local_cfgtest does not support this Moodle release: it supports Moodle branches 402 to "
            "405 ($plugin->supported), the image has Moodle 5.1.6 (Build: 20260810), version 2025100606, "
            "branch 501",
            id="unsupported branch",
        ),
        pytest.param(
            {"component": "local_cfgtest", "requires": "2026100700"},
            None,
            "it requires Moodle version 2026100700 or newer ($plugin->requires)",
            id="requires a newer Moodle",
        ),
        pytest.param(
            {"component": "block_cfgtest"},
            None,
            'plugin block_cfgtest: Moodle has no plugin type "block"; known types: mod, local, '
            "assignsubmission",
            id="unknown plugin type",
        ),
    ],
)
def test_helper_refuses_a_plugin_that_does_not_fit(
    helper: Helper,
    tmp_path: Path,
    served: tuple[Path, str],
    plugin: dict[str, object],
    tamper: str | None,
    expected: str,
) -> None:
    directory, url = served
    tree = make_tree(tmp_path / "tree")
    component = str(plugin["component"])
    archive = make_plugin_zip(directory / "plugin.zip", **plugin)  # type: ignore[arg-type]
    entry = plugin_entry(archive, url, component)
    if tamper == "checksum":
        entry["sha256"] = "0" * 64
    result = helper.run(tree, tmp_path / "lang", plugins=[entry])
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert not (tree / "public/local/cfgtest").exists(), "a refused plugin must leave nothing behind"


MOODLE_53_VERSION_PHP = (
    "<?php\n$version = 2026100500.00;\n$release = '5.3 (Build: 20261005)';\n$branch = '503';\n"
)
"""Moodle 5.3.0's core version.php values (its package's public/version.php, docs/IMAGE.md)."""


@pytest.mark.container
@pytest.mark.parametrize(
    ("supported", "refusal"),
    [
        pytest.param(
            (500, 502),
            "ERROR: plugin local_cfgtest does not support this Moodle release: it supports Moodle branches "
            "500 to 502 ($plugin->supported), the image has Moodle 5.3 (Build: 20261005), version "
            "2026100500, branch 503",
            id="a 5.2 plugin is refused",
        ),
        pytest.param((500, 503), None, id="a plugin that lists 5.3 is installed"),
    ],
)
def test_a_53_image_takes_only_plugins_that_support_branch_503(
    helper: Helper,
    tmp_path: Path,
    served: tuple[Path, str],
    supported: tuple[int, int],
    refusal: str | None,
) -> None:
    """Moodle itself upgrades past $plugin->supported (only `incompatible` stops it): the build refuses."""
    directory, url = served
    tree = make_tree(tmp_path / "tree")
    (tree / "public" / "version.php").write_text(MOODLE_53_VERSION_PHP)
    archive = make_plugin_zip(directory / "plugin.zip", component="local_cfgtest", supported=supported)

    result = helper.run(tree, tmp_path / "lang", plugins=[plugin_entry(archive, url, "local_cfgtest")])

    if refusal is None:
        assert result.returncode == 0, result.stderr
        assert (tree / "public/local/cfgtest/version.php").is_file()
    else:
        assert result.returncode == 1
        assert refusal in result.stderr, result.stderr
        assert not (tree / "public/local/cfgtest").exists()


@pytest.mark.container
def test_helper_refuses_a_language_pack_with_a_wrong_checksum(
    helper: Helper, tmp_path: Path, served: tuple[Path, str]
) -> None:
    directory, url = served
    make_language_pack(directory / "fr.zip", code="fr")
    result = helper.run(
        make_tree(tmp_path / "tree"),
        tmp_path / "lang",
        plugins=[],
        packs=[{"code": "fr", "url": f"{url}/fr.zip", "sha256": "1" * 64}],
    )
    assert result.returncode == 1
    assert "ERROR: language pack fr: the SHA-256 of" in result.stderr
    assert not (tmp_path / "lang" / "fr").exists()


# --- The real Dockerfile ---------------------------------------------------------------------------------


@pytest.mark.container
def test_image_build_installs_the_configured_plugin_and_language_pack(
    release_dir: Path, release_url: str, tmp_path: Path
) -> None:
    require_podman()
    tree = make_tree(tmp_path / "tree")
    release = pack_release(tree, release_dir / "fake-plugins.tgz", version=FAKE_RELEASE_VERSION)
    plugin = make_plugin_zip(release_dir / "local_cfgtest.zip", component="local_cfgtest")
    pack = make_language_pack(release_dir / "de.zip", code="de")
    plugins = [plugin_entry(plugin, release_url, "local_cfgtest")]
    packs = [{"code": "de", "url": f"{release_url}/de.zip", "sha256": sha256_of(pack)}]
    tag = checkout_tag("fake-plugins")
    build = build_image(
        tag=tag,
        release_url=f"{release_url}/{release.path.name}",
        release=release,
        build_args={"MOODLE_PLUGINS": json.dumps(plugins), "MOODLE_LANGUAGE_PACKS": json.dumps(packs)},
    )
    assert build.result.returncode == 0, build.output[-6000:]
    assert "install-plugins: 1 plugin(s) and 1 language pack(s) installed" in build.output
    listing = run_container(
        tag,
        "-c",
        "stat -c '%U %a %n' /var/www/moodle/public/local/cfgtest/version.php "
        f"/var/www/moodle/public/local/cfgtest/db/install.xml {LANGUAGE_DIR_IN_IMAGE}/de/langconfig.php",
        env={},
        options=["--entrypoint", "/bin/sh"],
    )
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split("\n")[:3] == [
        "root 644 /var/www/moodle/public/local/cfgtest/version.php",
        "root 644 /var/www/moodle/public/local/cfgtest/db/install.xml",
        f"root 644 {LANGUAGE_DIR_IN_IMAGE}/de/langconfig.php",
    ]
    shutil.rmtree(tree)


# --- config.php: the language packs' directory and the forced settings ------------------------------------


FORCED = {
    "core": {"lang": "de", "forcelogin": True, "maxbytes": 104857600, "theme": "boost"},
    "plugins": {
        "mod_forum": {"maxattachments": 5},
        "factor_sms": {"api_key": {"env": "MOODLE_SETTING_SECRET_1"}},
    },
}


@pytest.mark.container
def test_config_php_forces_the_settings_and_reads_secrets_from_their_variables(run_config: ConfigRun) -> None:
    cfg = load_config(
        run_config, MOODLE_FORCED_SETTINGS=json.dumps(FORCED), MOODLE_SETTING_SECRET_1="from-secrets-manager"
    )
    assert (cfg["lang"], cfg["forcelogin"], cfg["maxbytes"], cfg["theme"]) == ("de", 1, 104857600, "boost")
    assert cfg["forced_plugin_settings"] == {
        "mod_forum": {"maxattachments": 5},
        "factor_sms": {"api_key": "from-secrets-manager"},
    }
    assert cfg["langotherroot"] == LANGUAGE_DIR_IN_IMAGE
    assert cfg["scheduled_tasks"] == {"\\tool_langimport\\task\\update_langpacks_task": {"disabled": 1}}


@pytest.mark.container
def test_config_php_without_forced_settings_forces_nothing(run_config: ConfigRun) -> None:
    cfg = load_config(run_config)
    assert "forced_plugin_settings" not in cfg
    assert "lang" not in cfg


@pytest.mark.container
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MOODLE_FORCED_SETTINGS": "[not json"},
            "environment variable MOODLE_FORCED_SETTINGS must be a JSON object",
        ),
        (
            {"MOODLE_FORCED_SETTINGS": json.dumps(FORCED)},
            "missing environment variable MOODLE_SETTING_SECRET_1 (the value of setting factor_sms/api_key)",
        ),
    ],
)
def test_config_php_refuses_bad_forced_settings(
    run_config: ConfigRun, env: dict[str, str], expected: str
) -> None:
    result = run_config({**REQUIRED, **env})
    assert result.returncode == EXIT_CONFIG
    assert expected in result.stderr


@pytest.mark.container
def test_helper_installs_a_plugin_from_an_exact_commit_of_a_git_repository(
    helper: Helper, tmp_path: Path, served: tuple[Path, str]
) -> None:
    directory, _ = served
    with zipfile.ZipFile(make_plugin_zip(directory / "plugin.zip", component="local_cfgtest")) as archive:
        archive.extractall(tmp_path / "unzipped")
    repository = tmp_path / "unzipped" / "cfgtest"
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "plugin"]):
        subprocess.run([*git, *command], check=True, capture_output=True)
    commit = subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    tar = subprocess.run([*git, "archive", "--format=tar", commit], check=True, capture_output=True).stdout
    entry = {
        "component": "local_cfgtest",
        "git": f"file://{repository}",
        "commit": commit,
        "sha256": hashlib.sha256(tar).hexdigest(),
    }
    tree = make_tree(tmp_path / "tree")
    result = helper.run(tree, tmp_path / "lang", plugins=[entry])
    assert result.returncode == 0, result.stderr
    assert (tree / "public/local/cfgtest/db/install.xml").is_file()
    refused = helper.run(
        make_tree(tmp_path / "tree2"), tmp_path / "lang2", plugins=[{**entry, "sha256": "0" * 64}]
    )
    assert refused.returncode == 1
    assert f"plugin local_cfgtest: the SHA-256 of file://{repository} is" in refused.stderr
