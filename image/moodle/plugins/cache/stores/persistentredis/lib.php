<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

/**
 * The Redis cache store on a persistent connection.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

require_once($CFG->dirroot . '/cache/stores/redis/lib.php');

use cachestore_persistentredis\connection;

/**
 * Moodle's Redis cache store whose connection comes from {@see connection}; everything else is the core store.
 *
 * A store that cannot connect is not ready, and Moodle then runs the request without it (as with the core
 * store), so a hanging Redis costs one timeout per request instead of one per cache.
 */
class cachestore_persistentredis extends cachestore_redis {
    #[\Override]
    protected function new_redis(array $configuration): Redis|RedisCluster|null {
        if (!empty($configuration['clustermode'])) {
            return parent::new_redis($configuration);
        }
        [$host, $port] = array_pad(explode(':', trim($configuration['server']), 2), 2, 6379);
        $tls = empty($configuration['encryption']) ? null : ['cafile' => (string) ($configuration['cafile'] ?? '')];
        try {
            $redis = connection::open($host, (int) $port, (string) ($configuration['password'] ?? ''), $tls);
            if ($this->compressor === self::COMPRESSOR_NONE) {
                $redis->setOption(Redis::OPT_SERIALIZER, $this->serializer);
            }
            if (!empty($configuration['prefix'])) {
                $redis->setOption(Redis::OPT_PREFIX, $configuration['prefix']);
            }
            $this->isready = true;
            return $redis;
        } catch (RedisException $e) {
            // connection::open() logged why.
            $this->isready = false;
            return null;
        }
    }
}
