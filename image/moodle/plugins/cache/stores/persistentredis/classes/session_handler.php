<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

namespace cachestore_persistentredis;

/**
 * Moodle's Redis session handler on a persistent connection ($CFG->session_handler_class).
 *
 * Only the connection differs from \core\session\redis, whose settings ($CFG->session_redis_*) it reads and
 * whose init() registers the handler with PHP and then calls connect_to_redis() (Moodle 5.0 and 5.1 alike):
 * no new connection per request, the timeouts of {@see connection}, no retries (a hanging Redis would hold
 * the worker for each one), and a web request that finds Redis unavailable ends with a 503 at once.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class session_handler extends \core\session\redis {
    #[\Override]
    protected function connect_to_redis(): bool {
        [$host, $port] = array_pad(explode(':', $this->host[0] ?? '', 2), 2, $this->port);
        try {
            $this->connection = connection::open($host, (int) $port, (string) $this->auth, $this->sslopts ?: null);
            $this->connection->setOption(\Redis::OPT_SERIALIZER, $this->serializer);
            if ($this->prefix !== '') {
                $this->connection->setOption(\Redis::OPT_PREFIX, $this->prefix);
            }
            return true;
        } catch (\RedisException $e) {
            if (CLI_SCRIPT) {
                throw $e;
            }
            connection::refuse_request();
        }
    }
}
