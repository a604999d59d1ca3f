<?php
// Checks run before `web` and `cron` start, without touching the database or Redis: the configuration
// is complete (config.php exits 2 naming every problem) and the shared data directory was prepared by
// install-or-upgrade for the configured database (exit 8). Exit codes are listed in docs/IMAGE.md.

const EXIT_DATAROOT_NOT_PREPARED = 8;

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
define('ABORT_AFTER_CONFIG', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
require(__DIR__ . '/site-marker.php');

$problem = site_marker_problem($CFG);
if ($problem !== null) {
    moodle_image_die(EXIT_DATAROOT_NOT_PREPARED, "$problem. Run install-or-upgrade with this task's configuration first "
        . '(the pipeline does before every rollout), or mount the data directory of this site.');
}
