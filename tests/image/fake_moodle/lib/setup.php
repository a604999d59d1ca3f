<?php
// Stand-in for Moodle's bootstrap. Callers that define ABORT_AFTER_CONFIG only need $CFG; a full bootstrap
// comes from the image's helpers (configure-cache.php, upgrade-plan.php, uninstall-plugins.php, ...), which
// are recorded here by name and arguments instead of run, print $FAKE_<NAME>_OUTPUT (default nothing) and
// exit with $FAKE_<NAME>_STATUS (default 0). upgrade-plan.php prints a plan instead: pending as
// $FAKE_UPGRADE_PENDING says, and the add-on plugins in $FAKE_MISSING_PLUGINS (comma-separated) as in the
// database but missing from the code.

if (defined('ABORT_AFTER_CONFIG')) {
    return;
}
require_once(__DIR__ . '/fake_record.php');
$script = basename($_SERVER['argv'][0] ?? 'unknown', '.php');
fake_record(implode(' ', [$script, ...array_slice($_SERVER['argv'], 1)]));
$fakename = 'FAKE_' . strtoupper(str_replace('-', '_', $script));
if ($script === 'upgrade-plan') {
    $missing = array_filter(explode(',', (string) getenv('FAKE_MISSING_PLUGINS')));
    echo json_encode([
        'pending' => (bool) getenv('FAKE_UPGRADE_PENDING'),
        'from' => ['version' => '2025100606.00', 'release' => '5.1.6 (fake)'],
        'to' => ['version' => '2025100606.00', 'release' => '5.1.6 (fake)'],
        'plugins' => [],
        'downgrades' => [],
        'removed' => [],
        'missing' => array_map(fn($component) => ['component' => $component, 'from' => '2024010100', 'to' => null],
            $missing),
    ]), "\n";
} else {
    echo getenv($fakename . '_OUTPUT') ?: '';
}
exit(fake_status($fakename . '_STATUS'));
