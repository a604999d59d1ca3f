<?php
// uninstall-plugins: uninstalls the add-on plugins named on the command line through Moodle's own plugin
// manager (tables, settings, files, tasks, capabilities), like admin/cli/uninstall_plugins.php, but fails
// when Moodle refuses one (that script reports it and exits 0). install-or-upgrade runs it under its lock,
// behind the maintenance page, for plugins that cdk.json's moodle.uninstall_plugins lists and that are
// missing from the image. Exit codes: 0 done, 1 Moodle refused a plugin (named on stderr).

declare(strict_types=1);

define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
require_once($CFG->libdir . '/adminlib.php');

$pluginman = core_plugin_manager::instance();
foreach (array_slice($argv, 1) as $component) {
    if (!$pluginman->can_uninstall_plugin($component)) {
        fwrite(STDERR, "uninstall-plugins: ERROR: Moodle refuses to uninstall $component (another plugin "
            . "depends on it, or Moodle needs it)\n");
        exit(1);
    }
    fwrite(STDERR, "uninstall-plugins: uninstalling $component\n");
    $progress = new progress_trace_buffer(new text_progress_trace(), true);
    $pluginman->uninstall_plugin($component, $progress);
    $progress->finished();
}
