<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

namespace cachestore_persistentredis;

/**
 * Opens the connections of the session handler and the cache store: persistent, verified, bounded.
 *
 * Each php-fpm worker keeps its connections open between requests (phpredis pools them), so a request
 * pays neither a TCP nor a TLS handshake; phpredis checks a pooled connection (ECHO) before reuse and opens
 * a new one when Redis restarted. The endpoint's name is resolved on every request and the pool is keyed by
 * the address: after an ElastiCache failover the primary endpoint names the promoted replica, and no worker
 * keeps talking to the old primary. Once a connection fails, the rest of the request does not try again, and
 * the failure is logged once, as one line: phpredis's own warnings (e.g. "SSL: Handshake timed out") become
 * part of that line instead of lines of their own.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
final class connection {
    /** Seconds for TCP and TLS set-up: in one VPC they take a few milliseconds. */
    public const CONNECT_TIMEOUT = 1.0;
    /** Seconds to wait for any reply: Redis answers in well under a millisecond unless it hangs. */
    public const READ_TIMEOUT = 2.0;

    /** @var string|null Why Redis failed earlier in this request (userland statics live for one request). */
    private static ?string $failure = null;

    /**
     * A connected Redis client, authenticated.
     *
     * @param string $host DNS name (also the name the TLS certificate must carry) or address
     * @param int $port
     * @param string $password AUTH token, '' for none
     * @param array|null $tls stream context options (e.g. ['cafile' => ...]), null for plain TCP
     * @return \Redis
     * @throws \RedisException when Redis cannot be reached, verified or authenticated in time
     */
    public static function open(string $host, int $port, string $password, ?array $tls): \Redis {
        if (self::$failure !== null) {
            throw new \RedisException(self::$failure);
        }
        try {
            return self::pconnect($host, $port, $password, $tls);
        } catch (\RedisException $e) {
            self::$failure = $e->getMessage();
            error_log('Redis is unavailable: ' . self::$failure);
            throw $e;
        }
    }

    /**
     * Ends a web request that cannot work without Redis with the image's 503 for outages (the same as for the
     * database: moodle_image_unavailable(), loaded by config.php); the page names no address, and open() has
     * logged why, once.
     */
    public static function refuse_request(): never {
        moodle_image_unavailable();
    }

    /**
     * The pooled connection for the endpoint's current address.
     */
    private static function pconnect(string $host, int $port, string $password, ?array $tls): \Redis {
        $address = gethostbyname($host);
        $target = $address;
        $context = [];
        if ($tls !== null) {
            // Verification cannot be switched off here: the chain against the CA file, the name against $host.
            $context['stream'] = ['verify_peer' => true, 'verify_peer_name' => true, 'peer_name' => $host] + $tls;
            $target = 'tls://' . $address;
        }
        if ($password !== '') {
            // Sent as soon as a connection opens, and with the liveness check of a pooled one.
            $context['auth'] = $password;
        }
        $redis = new \Redis();
        $warnings = [];
        set_error_handler(static function (int $level, string $message) use (&$warnings): bool {
            $warnings[] = $message;
            return true;
        }, E_WARNING | E_NOTICE);
        try {
            if (!$redis->pconnect($target, $port, self::CONNECT_TIMEOUT, 'moodle', 0, self::READ_TIMEOUT, $context)) {
                throw new \RedisException("cannot connect to $target:$port");
            }
            if ($password === '') {
                // A TLS connection hangs unless the client speaks first (phpredis issue 2332); AUTH does otherwise.
                $redis->ping();
            }
        } catch (\RedisException $e) {
            throw new \RedisException(implode('; ', [$e->getMessage(), ...$warnings]), 0, $e);
        } finally {
            restore_error_handler();
        }
        return $redis;
    }
}
