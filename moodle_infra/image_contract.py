"""What the infrastructure and the Moodle image (``image/``) agree on.

The ECS task definitions, the ALB health check and the EFS access point are built from these
values; ``tests/image`` checks that the image's own files match them.
"""

from typing import Final

CONTAINER_PORT: Final = 8080
"""nginx listens here, as the non-root runtime user."""

HEALTH_CHECK_PATH: Final = "/healthz"
"""Answered by nginx and php-fpm without touching Moodle, the database or the cache."""

RUNTIME_UID: Final = 33
RUNTIME_GID: Final = 33
"""``www-data`` in Debian images: owner of everything the container writes, EFS files included."""

SHARED_DATA_PATH: Final = "/var/www/moodledata"
"""Mount point of the EFS access point: Moodle's dataroot, tempdir, cachedir and backuptempdir."""

COMMAND_WEB: Final = "web"
COMMAND_INSTALL_OR_UPGRADE: Final = "install-or-upgrade"
COMMAND_CRON: Final = "cron"
"""Arguments of the image's entrypoint, one per workload."""
