<?php
// Backs Moodle's application and session caches (MUC) with the Redis server of the sessions: creates or
// updates a Redis store instance and makes it the default store of both modes. Session-mode caches must
// leave the session itself, or read-only sessions (config.php) refuse to work. Idempotent; run by
// install-or-upgrade.php after the database is up to date. Writes $CFG->dataroot/muc/config.php.

define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
require_once($CFG->dirroot . '/cache/stores/redis/lib.php');

use core_cache\config_writer;
use core_cache\store;

const STORE_NAME = 'redis';
const MODES = [store::MODE_APPLICATION, store::MODE_SESSION];

// The connection settings are config.php's session settings, so sessions and cache share one source.
$tls = !empty($CFG->session_redis_encrypt);
$configuration = [
    'server' => "{$CFG->session_redis_host}:{$CFG->session_redis_port}",
    'prefix' => $CFG->prefix . 'muc_',
    'password' => $CFG->session_redis_auth,
    'serializer' => Redis::SERIALIZER_PHP,
    'compressor' => cachestore_redis::COMPRESSOR_NONE,
    'connectiontimeout' => 3,
    'encryption' => $tls,
    'cafile' => $tls ? $CFG->session_redis_encrypt['cafile'] : '',
    'clustermode' => false,
];

// Never point the caches at a server that does not answer.
$probe = new cachestore_redis(STORE_NAME, $configuration);
if (!$probe->is_ready()) {
    cli_error("The Redis server {$configuration['server']} is not reachable with the configured settings.");
}

$writer = config_writer::instance();
$existing = $writer->get_all_stores()[STORE_NAME] ?? null;
if ($existing === null) {
    $writer->add_store_instance(STORE_NAME, 'redis', $configuration);
    mtrace('Created the cache store ' . STORE_NAME . '.');
} else if ($existing['configuration'] != $configuration) {
    $writer->edit_store_instance(STORE_NAME, 'redis', $configuration);
    mtrace('Updated the cache store ' . STORE_NAME . '.');
}

$storesbymode = [store::MODE_APPLICATION => [], store::MODE_SESSION => [], store::MODE_REQUEST => []];
foreach ($writer->get_mode_mappings() as $mapping) {
    $storesbymode[$mapping['mode']][] = $mapping['store'];
}
$wanted = array_replace($storesbymode, array_fill_keys(MODES, [STORE_NAME]));
if ($wanted !== $storesbymode) {
    $writer->set_mode_mappings($wanted);
    mtrace('Mapped the application and session caches to ' . STORE_NAME . '.');
}
mtrace('The application and session caches are stored in Redis.');
