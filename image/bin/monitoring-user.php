<?php
// monitoring-user: the account that the browser journey (python -m journey, the Synthetics canary) logs in
// with, and its course. Run by install-or-upgrade.php after the database is up to date, when
// MOODLE_MONITOR_PASSWORD is set (an environment with the canary); idempotent. The user is a manual-auth
// student of one hidden course, and the student role may see hidden courses in that course's context only:
// the user sees its course and nothing else, and nobody but administrators sees the course. The password
// is the secret's on every run, so a new secret takes effect with the next deploy. No email reaches it.
// Exit codes: 0 done, 2 MOODLE_MONITOR_PASSWORD missing.

declare(strict_types=1);

define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/var/www/moodle') . '/config.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->libdir . '/enrollib.php');

$username = getenv('MOODLE_MONITOR_USER') ?: 'monitor';
$shortname = getenv('MOODLE_MONITOR_COURSE') ?: 'monitoring';
$password = (string) getenv('MOODLE_MONITOR_PASSWORD');
if ($password === '') {
    fwrite(STDERR, "monitoring-user: MOODLE_MONITOR_PASSWORD is not set\n");
    exit(2);
}

$user = $DB->get_record('user', ['username' => $username, 'mnethostid' => $CFG->mnet_localhost_id]);
if (!$user) {
    $userid = user_create_user((object) [
        'username' => $username,
        'password' => $password,
        'auth' => 'manual',
        'confirmed' => 1,
        'mnethostid' => $CFG->mnet_localhost_id,
        'firstname' => 'Site',
        'lastname' => 'Monitor',
        'email' => $username . '@monitoring.invalid',
        'emailstop' => 1,
    ], true, false);
    $user = $DB->get_record('user', ['id' => $userid], '*', MUST_EXIST);
    echo "Created the monitoring user $username\n";
} else {
    if ($user->deleted || $user->suspended || $user->auth !== 'manual') {
        $DB->update_record('user', (object) ['id' => $user->id, 'deleted' => 0, 'suspended' => 0, 'auth' => 'manual']);
        echo "Restored the monitoring user $username (it was deleted, suspended or not manual)\n";
    }
    if (!validate_internal_user_password($user, $password)) {
        update_internal_user_password($user, $password);
        echo "Set the monitoring user's password from the secret\n";
    }
}
unset_user_preference('auth_forcepasswordchange', $user);

$course = $DB->get_record('course', ['shortname' => $shortname]);
if (!$course) {
    $course = create_course((object) [
        'fullname' => 'Site monitoring',
        'shortname' => $shortname,
        'category' => core_course_category::get_default()->id,
        'visible' => 0,
        'summary' => 'Opened every few minutes by the monitoring user to prove that the site works.',
    ]);
    echo "Created the monitoring course $shortname\n";
}
$context = context_course::instance($course->id);
$student = $DB->get_record('role', ['shortname' => 'student'], '*', MUST_EXIST);
assign_capability('moodle/course:viewhiddencourses', CAP_ALLOW, $student->id, $context->id, true);

$manual = enrol_get_plugin('manual');
$instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual']);
if (!$instance) {
    $instance = $DB->get_record('enrol', ['id' => $manual->add_default_instance($course)], '*', MUST_EXIST);
}
if (!is_enrolled($context, $user, '', true)) {
    $manual->enrol_user($instance, (int) $user->id, (int) $student->id, 0, 0, ENROL_USER_ACTIVE);
    echo "Enrolled $username in $shortname as a student\n";
}
echo "The monitoring user $username and its course $shortname are ready\n";
