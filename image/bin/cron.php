<?php
// The cron command: Moodle's admin/cli/cron.php with its arguments, but every failure it does not handle
// itself (the database down at start, an uncaught exception, a PHP fatal error) ends as one plain line on
// stderr and an exit code of docs/IMAGE.md's table, where Moodle would print HTML on stdout and exit 1.

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
try {
    // Moodle's bootstrap inside replaces the exception handler; what it throws still passes through here.
    require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/admin/cli/cron.php');
} catch (Throwable $e) {
    moodle_image_die_uncaught($e);
}
