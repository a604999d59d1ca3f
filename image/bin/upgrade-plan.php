<?php
// upgrade-plan: prints, as one JSON line on stdout, whether this image's code would upgrade the installed
// site, from which to which version (core and every plugin), whether the database is newer than this
// code (a downgrade, which must never run), the standard plugins this release removes, and the add-on
// plugins the database holds but the image lacks (missing). Changes nothing. Run by install-or-upgrade on an
// installed site (step "plan", so that the deploy can snapshot the database before an upgrade, and before
// an upgrade, which refuses missing plugins unless cdk.json says to uninstall them).

declare(strict_types=1);

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
// As admin/cli/upgrade.php: no cache may answer for code and a database that may not match yet.
define('CACHE_DISABLE_ALL', true);
// Reads the site even while Moodle's `upgraderunning` flag is set (a stopped upgrade leaves it): Moodle's
// bootstrap would otherwise refuse to run, or delete the flag once it expired. The plan changes nothing.
define('NO_UPGRADE_CHECK', true);
// Moodle's own CLI scripts run against a database that an upgrade is pending for; so does this one.
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
// Moodle's bootstrap has replaced the exception handler.
moodle_image_report_errors();
require_once($CFG->libdir . '/adminlib.php');

// The code's core version, read the way admin/cli/upgrade.php reads it.
$version = null;
$release = null;
require($CFG->dirroot . '/version.php');

// What this code would upgrade, and what the database holds newer than this code (a rollback's image).
$plugins = [];
$downgrades = [];
$removed = [];
$missing = [];
if ((float) $CFG->version > (float) $version) {
    $downgrades[] = ['component' => 'core', 'from' => (string) $CFG->version, 'to' => (string) $version];
}
foreach (core_plugin_manager::instance()->get_plugins() as $type) {
    foreach ($type as $plugin) {
        $change = ['component' => $plugin->component, 'from' => $plugin->versiondb, 'to' => $plugin->versiondisk];
        $status = $plugin->get_status();
        if ($status === core_plugin_manager::PLUGIN_STATUS_NEW || $status === core_plugin_manager::PLUGIN_STATUS_UPGRADE) {
            $plugins[] = $change;
        } else if ($status === core_plugin_manager::PLUGIN_STATUS_DOWNGRADE) {
            $downgrades[] = $change;
        } else if ($status === core_plugin_manager::PLUGIN_STATUS_DELETE) {
            // A standard plugin this release no longer ships: Moodle's upgrade removes it with its data.
            $removed[] = $change;
        } else if ($status === core_plugin_manager::PLUGIN_STATUS_MISSING) {
            // An add-on plugin whose code is gone from the image (cdk.json's moodle_release.plugins).
            $missing[] = $change;
        }
    }
}

echo json_encode([
    'pending' => moodle_needs_upgrading(),
    'from' => ['version' => (string) $CFG->version, 'release' => (string) $CFG->release],
    'to' => ['version' => (string) $version, 'release' => (string) $release],
    'plugins' => $plugins,
    'downgrades' => $downgrades,
    'removed' => $removed,
    'missing' => $missing,
], JSON_UNESCAPED_SLASHES), "\n";
