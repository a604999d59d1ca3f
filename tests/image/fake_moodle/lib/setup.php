<?php
// Stand-in for Moodle's bootstrap. Callers that define ABORT_AFTER_CONFIG only need $CFG; a full bootstrap
// comes from the image's helpers (configure-cache.php, clear-upgrade-flag.php), which are recorded here
// by name instead of run, print $FAKE_<NAME>_OUTPUT (default nothing) and exit with $FAKE_<NAME>_STATUS
// (default 0).

if (defined('ABORT_AFTER_CONFIG')) {
    return;
}
require_once(__DIR__ . '/fake_record.php');
$script = basename($_SERVER['argv'][0] ?? 'unknown', '.php');
fake_record($script);
$fakename = 'FAKE_' . strtoupper(str_replace('-', '_', $script));
echo getenv($fakename . '_OUTPUT') ?: '';
exit(fake_status($fakename . '_STATUS'));
