<?php
// What a request gets while a service Moodle cannot work without does not answer: the database (config.php,
// when Moodle's bootstrap cannot connect) or Redis (cachestore_persistentredis). Both are the same event for
// a visitor and for CloudFront, so both get the same answer. config.php loads this file before Moodle.

require_once(__DIR__ . '/cli-errors.php');

/**
 * Ends a web request with a short 503 that CloudFront does not cache (no-store) and a client may retry
 * (Retry-After), naming no host, address or port. The reason goes to the log (php-fpm's stderr); the ALB
 * counts the 503 among the target's 5xx responses, which an alarm watches.
 */
function moodle_image_unavailable(?string $reason = null): never {
    if ($reason !== null) {
        error_log($reason);
    }
    if (!headers_sent()) {
        http_response_code(503);
        header('Retry-After: 5');
        header('Cache-Control: no-store');
        header('Content-Type: text/plain; charset=utf-8');
    }
    echo "The site is briefly unavailable. Please try again in a few seconds.\n";
    exit(1);
}

/**
 * Moodle's bootstrap (lib/setup.php) threw. A database that cannot be reached answers the web's 503 and
 * the CLI's exit code 3; any other exception in a web request goes on to Moodle's own error page, and on
 * the CLI it becomes one plain line on stderr (Moodle would print its HTML message on stdout).
 */
function moodle_image_bootstrap_failed(Throwable $e): never {
    $unreachable = $e instanceof dml_connection_exception;
    if (PHP_SAPI !== 'cli') {
        if (!$unreachable) {
            throw $e;
        }
        // debuginfo holds the driver's error; its first line is the reason, the rest a stack trace.
        moodle_image_unavailable('The database is unavailable: ' . strtok((string) $e->debuginfo, "\n"));
    }
    if ($unreachable) {
        global $CFG;
        moodle_image_die(EXIT_DATABASE_UNREACHABLE, "the database at {$CFG->dbhost}:{$CFG->dboptions['dbport']} is not "
            . 'reachable: ' . strtok((string) $e->debuginfo, "\n"));
    }
    moodle_image_die_uncaught($e);
}
