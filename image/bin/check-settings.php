<?php
// check-settings: after install-or-upgrade, against the real Moodle of the image. Lists the add-on plugins
// (those not shipped with the release: cdk.json's moodle_release.plugins) with the version in the code and
// in the database, and checks that every setting MOODLE_FORCED_SETTINGS forces is one that Moodle knows
// (a setting on one of its admin pages): a misspelt name would otherwise be forced without effect.
// Exit codes: 0 all known, 2 configuration error (config.php), 11 unknown settings (each named on stderr).

declare(strict_types=1);

const EXIT_UNKNOWN_SETTINGS = 11;

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
$moodledir = getenv('MOODLE_DIR') ?: '/var/www/moodle';
require($moodledir . '/config.php');
// Moodle's bootstrap has replaced the exception handler.
moodle_image_report_errors();
require_once($CFG->libdir . '/adminlib.php');

/** Every "plugin/name" (core settings as "core/name") on Moodle's admin pages. */
function known_settings(part_of_admin_tree $node, array &$known): void {
    if ($node instanceof admin_settingpage) {
        foreach ($node->settings as $setting) {
            $known[($setting->plugin ?: 'core') . '/' . $setting->name] = true;
        }
    }
    if ($node instanceof admin_category) {
        foreach ($node->get_children() as $child) {
            known_settings($child, $known);
        }
    }
}

// Some pages are only built for a user with moodle/site:config.
\core\session\manager::set_user(get_admin());

foreach (core_plugin_manager::instance()->get_plugins() as $plugins) {
    foreach ($plugins as $plugin) {
        if (!$plugin->is_standard()) {
            fwrite(STDERR, "check-settings: add-on plugin {$plugin->component} {$plugin->release}: version "
                . ($plugin->versiondisk ?? 'missing') . ' in the code, ' . ($plugin->versiondb ?? 'none')
                . " in the database\n");
        }
    }
}

$forced = json_decode((string) getenv('MOODLE_FORCED_SETTINGS'), true) ?: [];
$known = [];
known_settings(admin_get_root(true, true), $known);
$unknown = [];
foreach (array_keys($forced['core'] ?? []) as $name) {
    if (!isset($known["core/$name"])) {
        $unknown[] = "core setting \"$name\" (moodle.settings.core.$name)";
    }
}
foreach ($forced['plugins'] ?? [] as $plugin => $settings) {
    foreach (array_keys($settings) as $name) {
        if (!isset($known["$plugin/$name"])) {
            $hint = str_contains($plugin, '_') && str_starts_with($plugin, 'mod_')
                ? ' (activity modules keep their settings under their name without "mod_")' : '';
            $unknown[] = "setting \"$name\" of plugin \"$plugin\" (moodle.settings.plugins.$plugin.$name)$hint";
        }
    }
}
if ($unknown) {
    fwrite(STDERR, "check-settings: ERROR: cdk.json forces settings that this Moodle does not have: "
        . implode('; ', $unknown) . ". Correct or remove them in cdk.json.\n");
    exit(EXIT_UNKNOWN_SETTINGS);
}
$count = count($forced['core'] ?? []) + array_sum(array_map('count', $forced['plugins'] ?? []));
fwrite(STDERR, "check-settings: all $count forced settings are known to Moodle\n");
