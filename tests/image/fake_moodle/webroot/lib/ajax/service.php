<?php
// Stand-in for Moodle's AJAX web service endpoint: answers core_session_time_remaining for a session.
require __DIR__ . '/../fake_journey.php';

header('Content-Type: application/json');
$calls = json_decode((string) file_get_contents('php://input'), true) ?: [];
$known = fake_journey_logged_in() && ($calls[0]['methodname'] ?? '') === 'core_session_time_remaining';
echo json_encode([$known
    ? ['error' => false, 'data' => ['userid' => 3, 'timeremaining' => 7200]]
    : ['error' => true, 'exception' => ['message' => 'Web service not available or not logged in']]]);
