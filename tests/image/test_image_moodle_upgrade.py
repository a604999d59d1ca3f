"""An upgrade between real Moodle releases in containers (opt-in: MOODLE_SRC_PREVIOUS and MOODLE_SRC).

The older release's image installs a site; the newer release's image then runs install-or-upgrade against
the same database and data directory, as the pipeline does when cdk.json moves to a new release, and
serves the upgraded site.
"""

from __future__ import annotations

import json

import pytest

from moodle_infra import image_contract
from tests.image.image_testlib import Redis
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_moodle import Browser, login, new_deployment

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]


def test_upgrade_to_the_new_release_keeps_the_site(
    previous_real_image: RealImage,
    real_image: RealImage,
    mysql: MySQL,
    redis_tls: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("upgrade")
    root.chmod(0o755)
    deployment = new_deployment("moodle_upgrade", root, mysql, redis_tls)
    deployment.measurements.update(previous_real_image.timings)
    install = image_contract.COMMAND_INSTALL_OR_UPGRADE

    installed = deployment.timed(f"install {previous_real_image.release}", previous_real_image.tag, install)
    upgraded = deployment.timed(
        f"upgrade {previous_real_image.release} -> {real_image.release}", real_image.tag, install
    )

    assert installed.returncode == 0, installed.stderr[-3000:]
    assert upgraded.returncode == 0, upgraded.stdout[-3000:] + upgraded.stderr[-3000:]
    assert "upgrading Moodle" in upgraded.stderr
    web = deployment.start_web(real_image.tag, "upgraded web")
    try:
        status, url, dashboard = login(Browser())
        release = mysql.sql("SELECT value FROM moodle_upgrade.mdl_config WHERE name = 'release'").strip()
    finally:
        web.remove()
        print(f"\nmeasurements (upgrade): {json.dumps(deployment.measurements, indent=2)}")
        mysql.sql("DROP DATABASE moodle_upgrade")

    assert (status, url.endswith("/my/")) == (200, True)
    assert "login/logout.php?sesskey=" in dashboard
    assert release.startswith(real_image.release)
