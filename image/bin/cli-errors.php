<?php
// How the image's CLI scripts end when something goes wrong that they did not foresee. Moodle's bootstrap
// sets error_reporting from $CFG->debug (0 on a production site) and installs handlers that print
// "!!! ... !!!" with HTML on stdout, so an uncaught error or a fatal would end a task with exit 255 and
// nothing in its log. Here every such failure becomes one plain line on stderr that names the script and
// the reason, and the exit code is one of docs/IMAGE.md's table.

// An unexpected failure: a bug, an uncaught error, a PHP fatal error.
const EXIT_UNEXPECTED = 1;
// Moodle's bootstrap could not connect to the database (config.php; install-or-upgrade waits for it instead).
const EXIT_DATABASE_UNREACHABLE = 3;
// The errors that end a script whatever handler is set; error_get_last() holds them even when not reported.
const CLI_FATAL_ERRORS = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR;

/** The script's name, as its lines start ("configure-cache"). */
function moodle_image_script_name(): string {
    return basename($_SERVER['argv'][0] ?? 'php', '.php');
}

/** One line of plain text: Moodle's messages carry HTML and its debug information several lines. */
function moodle_image_plain(string $text): string {
    // A space before every tag keeps "<p>one</p><p>two</p>" apart as "one two".
    $text = html_entity_decode(strip_tags(str_replace('<', ' <', $text)), ENT_QUOTES);
    return trim(preg_replace('/\s+/', ' ', $text));
}

/** Prints "script: ERROR: reason" on stderr and exits with $exitcode. */
function moodle_image_die(int $exitcode, string $reason): never {
    fwrite(STDERR, moodle_image_script_name() . ': ERROR: ' . moodle_image_plain($reason) . "\n");
    exit($exitcode);
}

/** The line for an exception nobody caught: its class, message, Moodle's debug information and origin. */
function moodle_image_die_uncaught(Throwable $e): never {
    $debuginfo = property_exists($e, 'debuginfo') ? strtok((string) $e->debuginfo, "\n") : '';
    $detail = $debuginfo !== '' && $debuginfo !== false ? " ($debuginfo)" : '';
    moodle_image_die(EXIT_UNEXPECTED, 'uncaught ' . get_class($e) . ': ' . $e->getMessage() . $detail
        . " at {$e->getFile()}:{$e->getLine()}");
}

/**
 * Reports every uncaught exception and fatal error of this script. Call it again after a full Moodle
 * bootstrap (require config.php without ABORT_AFTER_CONFIG), which replaces the exception handler.
 */
function moodle_image_report_errors(): void {
    static $registered = false;
    set_exception_handler('moodle_image_die_uncaught');
    if (!$registered) {
        register_shutdown_function(static function (): void {
            $error = error_get_last();
            if ($error !== null && ($error['type'] & CLI_FATAL_ERRORS)) {
                $where = "{$error['file']}:{$error['line']}";
                moodle_image_die(EXIT_UNEXPECTED, "PHP fatal error: {$error['message']} at $where");
            }
        });
        $registered = true;
    }
}
