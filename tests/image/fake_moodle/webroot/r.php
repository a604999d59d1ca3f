<?php
// Stand-in for Moodle's router: answers the journey's /api route for its session (fake_journey.php) and
// "not found" for every other path, saying which path reached it.

require_once __DIR__ . '/lib/fake_journey.php';

header('Content-Type: application/json');
if (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) === '/api/rest/v2/user/current/preferences' && fake_journey_logged_in()) {
    echo json_encode(['htmleditor' => 'tiny']);
    exit;
}
http_response_code(404);
echo json_encode(['routed' => $_SERVER['REQUEST_URI'], 'script_name' => $_SERVER['SCRIPT_NAME']]);
