<?php
// Stand-in login page: the monitoring user's password is the task's MOODLE_MONITOR_PASSWORD.
require __DIR__ . '/../lib/fake_journey.php';

$error = '';
if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    if (($_POST['username'] ?? '') === 'monitor' && ($_POST['password'] ?? '') === getenv('MOODLE_MONITOR_PASSWORD')) {
        setcookie(FAKE_SESSION_COOKIE, 'monitor', ['path' => '/', 'httponly' => true]);
        header('Location: /my/', true, 303);
        exit;
    }
    $error = '<p id="loginerrormessage">Invalid login, please try again</p>';
}
fake_journey_page('page-login-index', $error . '<form id="login" method="post" action="/login/index.php">'
    . '<input id="username" name="username"><input id="password" name="password" type="password">'
    . '<button id="loginbtn" type="submit">Log in</button></form>');
