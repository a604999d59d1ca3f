<?php
// Stand-in for Moodle's CLI maintenance switch: --enable writes climaintenance.html into the dataroot,
// --disable removes it, as Moodle's does.

define('CLI_SCRIPT', true);
define('ABORT_AFTER_CONFIG', true);
require(__DIR__ . '/../../config.php');
require_once(__DIR__ . '/../../lib/fake_record.php');
$option = $argv[1] ?? '';
fake_record("maintenance $option");
$page = "$CFG->dataroot/climaintenance.html";
if ($option === '--enable') {
    file_put_contents($page, 'maintenance');
} else if ($option === '--disable' && file_exists($page)) {
    unlink($page);
}
exit(fake_status('FAKE_MAINTENANCE_STATUS'));
