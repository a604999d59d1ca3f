<?php
// Stand-in for Moodle's bootstrap. Callers that define ABORT_AFTER_CONFIG only need $CFG; a full bootstrap
// comes from the image's configure-cache.php, which is recorded here instead of run.

if (defined('ABORT_AFTER_CONFIG')) {
    return;
}
require_once(__DIR__ . '/fake_record.php');
fake_record('configure-cache');
exit(fake_status('FAKE_CACHE_SETUP_STATUS'));
