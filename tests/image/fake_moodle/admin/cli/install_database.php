<?php
// Stand-in for Moodle's installer: records the call, takes a while, and creates the table by which
// install-or-upgrade recognises an installed site.

require_once(__DIR__ . '/../../lib/fake_record.php');
fake_record('install start ' . implode(' ', array_slice($argv, 1)));
usleep((int) (1e6 * (float) (getenv('FAKE_STEP_SECONDS') ?: 0)));
$db = new mysqli(getenv('MOODLE_DB_HOST'), getenv('MOODLE_DB_USER'), getenv('MOODLE_DB_PASSWORD'),
    getenv('MOODLE_DB_NAME'), (int) getenv('MOODLE_DB_PORT'));
$db->query('CREATE TABLE ' . (getenv('MOODLE_DB_PREFIX') ?: 'mdl_') . 'config (name VARCHAR(100), value TEXT)');
fake_record('install end');
exit(fake_status('FAKE_INSTALL_STATUS'));
