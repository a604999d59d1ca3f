<?php
// Stand-in for Moodle's router: answers "not found" for every path, saying which path reached it.

http_response_code(404);
header('Content-Type: application/json');
echo json_encode(['routed' => $_SERVER['REQUEST_URI'], 'script_name' => $_SERVER['SCRIPT_NAME']]);
