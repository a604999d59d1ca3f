<?php
// Removes Moodle's `upgraderunning` flag through Moodle's own API, which also drops the cached copy.
// install-or-upgrade runs this under its lock only, when no upgrade can be running: the flag was left by
// a run that was stopped part-way, and Moodle would refuse every upgrade until it expires.

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
define('NO_UPGRADE_CHECK', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
// Moodle's bootstrap has replaced the exception handler.
moodle_image_report_errors();

unset_config('upgraderunning');
