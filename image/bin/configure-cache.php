<?php
// Configures Moodle's caches (MUC) for the image: the application and session caches in Redis, on the
// image's cache store plugin cachestore_persistentredis (the connection settings of config.php's sessions),
// and the application caches that Moodle allows to live per server (`canuselocalstore`) in a file store under
// localcachedir, on the task's own disk: fewer Redis round trips, and never on EFS. Session-mode caches must
// leave the session itself, or read-only sessions (config.php) refuse to work. Idempotent; run by
// install-or-upgrade.php after the database is up to date (new definitions of an upgrade are mapped then).
// Writes $CFG->dataroot/muc/config.php.

// install-or-upgrade reports its failure as its own exit code 6.
const EXIT_CACHE_SETUP_FAILED = 6;

require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
// Moodle's bootstrap has replaced the exception handler.
moodle_image_report_errors();
require_once($CFG->dirroot . '/cache/stores/persistentredis/lib.php');

use core_cache\config_writer;
use core_cache\store;

const REDIS_STORE = 'redis';
const REDIS_PLUGIN = 'persistentredis';
const LOCAL_STORE = 'local';
const MODES = [store::MODE_APPLICATION, store::MODE_SESSION];

// The connection settings are config.php's session settings, so sessions and cache share one source.
$tls = !empty($CFG->session_redis_encrypt);
$redis = [
    'server' => "{$CFG->session_redis_host}:{$CFG->session_redis_port}",
    'prefix' => $CFG->prefix . 'muc_',
    'password' => $CFG->session_redis_auth,
    'serializer' => Redis::SERIALIZER_PHP,
    'compressor' => cachestore_redis::COMPRESSOR_NONE,
    // What the store shows in the admin pages; the plugin's own timeouts apply (docs/IMAGE.md).
    'connectiontimeout' => 1,
    'encryption' => $tls,
    'cafile' => $tls ? $CFG->session_redis_encrypt['cafile'] : '',
    'clustermode' => false,
];
// The same path in every task (config.php), on each task's own disk.
$local = ['path' => $CFG->localcachedir . '/muc', 'autocreate' => 1];

// Never point the caches at a server that does not answer.
$probe = new cachestore_persistentredis(REDIS_STORE, $redis);
if (!$probe->is_ready()) {
    moodle_image_die(EXIT_CACHE_SETUP_FAILED, "Redis at {$redis['server']} is not reachable with the configured settings "
        . '(host, port, TLS, AUTH token): not pointing the caches at it.');
}

$writer = config_writer::instance();

/** Creates the store instance, or brings its plugin and settings up to date. */
function ensure_store(config_writer $writer, string $name, string $plugin, array $configuration): void {
    $existing = $writer->get_all_stores()[$name] ?? null;
    if ($existing === null) {
        $writer->add_store_instance($name, $plugin, $configuration);
        mtrace("Created the cache store $name.");
    } else if ($existing['plugin'] !== $plugin || $existing['configuration'] != $configuration) {
        $writer->edit_store_instance($name, $plugin, $configuration);
        mtrace("Updated the cache store $name.");
    }
}

ensure_store($writer, REDIS_STORE, REDIS_PLUGIN, $redis);
ensure_store($writer, LOCAL_STORE, 'file', $local);

$storesbymode = [store::MODE_APPLICATION => [], store::MODE_SESSION => [], store::MODE_REQUEST => []];
foreach ($writer->get_mode_mappings() as $mapping) {
    $storesbymode[$mapping['mode']][] = $mapping['store'];
}
$wanted = array_replace($storesbymode, array_fill_keys(MODES, [REDIS_STORE]));
if ($wanted !== $storesbymode) {
    $writer->set_mode_mappings($wanted);
    mtrace('Mapped the application and session caches to ' . REDIS_STORE . '.');
}

// Moodle's install and upgrade have written the definitions of the code into the MUC config.
$mapped = [];
foreach ($writer->get_definition_mappings() as $mapping) {
    $mapped[$mapping['definition']][] = $mapping['store'];
}
$localised = 0;
foreach ($writer->get_definitions() as $id => $definition) {
    $local = !empty($definition['canuselocalstore']) && (int) $definition['mode'] === store::MODE_APPLICATION;
    if ($local && ($mapped[$id] ?? []) !== [LOCAL_STORE]) {
        $writer->set_definition_mappings($id, [LOCAL_STORE]);
        $localised++;
    }
}
if ($localised) {
    mtrace("Mapped $localised application cache(s) that may live per task to " . LOCAL_STORE . '.');
}
mtrace('The application and session caches are stored in Redis, per-task ones under localcachedir.');
