<?php
// Shared by the stand-ins of this fake Moodle tree: appends one JSON line per call to $FAKE_MOODLE_LOG.

function fake_record(string $event): void {
    $line = json_encode([
        'event' => $event,
        'run' => getenv('FAKE_RUN_ID') ?: '',
        'time' => microtime(true),
    ]);
    file_put_contents(getenv('FAKE_MOODLE_LOG'), $line . "\n", FILE_APPEND | LOCK_EX);
}

// Each stand-in exits with the status in this variable (default 0), so tests can make a step fail.
function fake_status(string $name): int {
    return (int) (getenv($name) ?: 0);
}
