<?php
// Stand-in for Moodle's installer: records the call, takes a while, and creates the config table, setting
// 'rolesactive' as its last step as Moodle does.

require_once(__DIR__ . '/../../lib/fake_record.php');
fake_record('install start ' . implode(' ', array_slice($argv, 1)));
usleep((int) (1e6 * (float) (getenv('FAKE_STEP_SECONDS') ?: 0)));
$db = new mysqli(getenv('MOODLE_DB_HOST'), getenv('MOODLE_DB_USER'), getenv('MOODLE_DB_PASSWORD'),
    getenv('MOODLE_DB_NAME'), (int) getenv('MOODLE_DB_PORT'));
// What config.php does for the real installer once Moodle has connected: record the session.
if (getenv('MOODLE_INSTALL_SESSIONS_FILE')) {
    file_put_contents(getenv('MOODLE_INSTALL_SESSIONS_FILE'), $db->query('SELECT CONNECTION_ID()')->fetch_row()[0] . "\n",
        FILE_APPEND | LOCK_EX);
}
$config = (getenv('MOODLE_DB_PREFIX') ?: 'mdl_') . 'config';
$db->query("CREATE TABLE $config (name VARCHAR(100) PRIMARY KEY, value TEXT)");
$status = fake_status('FAKE_INSTALL_STATUS');
if ($status === 0) {
    $db->query("INSERT INTO $config VALUES ('release', '5.1.6 (fake)'), ('rolesactive', '1')");
}
fake_record('install end');
exit($status);
