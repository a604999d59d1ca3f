<?php
// Stand-in for Moodle's upgrade script: --is-pending answers 2 when FAKE_UPGRADE_PENDING is set, else 0.

require_once(__DIR__ . '/../../lib/fake_record.php');
if (in_array('--is-pending', $argv, true)) {
    fake_record('is-pending');
    exit(getenv('FAKE_UPGRADE_PENDING') ? 2 : 0);
}
fake_record('upgrade ' . implode(' ', array_slice($argv, 1)));
exit(fake_status('FAKE_UPGRADE_STATUS'));
