<?php
// Reports what PHP received from nginx and php-fpm; ?sendfile=NAME hands $CFG->dataroot/NAME back to nginx
// the way Moodle does ($CFG->xsendfile), ?size=N answers N bytes of text.

if (isset($_GET['sendfile'])) {
    header('X-Accel-Redirect: /dataroot/' . $_GET['sendfile']);
    exit;
}
if (isset($_GET['size'])) {
    header('Content-Type: text/plain');
    echo str_repeat('moodle ', intdiv((int) $_GET['size'], 7));
    exit;
}
header('Content-Type: application/json');
echo json_encode([
    'remote_addr' => $_SERVER['REMOTE_ADDR'],
    'script_name' => $_SERVER['SCRIPT_NAME'],
    'path_info' => $_SERVER['PATH_INFO'] ?? '',
    'db_name_from_environment' => getenv('MOODLE_DB_NAME'),
    'max_input_vars' => ini_get('max_input_vars'),
]);
