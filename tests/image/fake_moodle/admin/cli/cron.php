<?php
// Stand-in for Moodle's cron: records its arguments.

require_once(__DIR__ . '/../../lib/fake_record.php');
fake_record('cron ' . implode(' ', array_slice($argv, 1)));
exit(fake_status('FAKE_CRON_STATUS'));
