<?php
// Site data for the upgrade test (tests/image/test_image_moodle_data_kept.py), made and read back with
// Moodle's own APIs inside the production image, never with SQL.
// "make": a course, a student enrolled in it and the student's finished, graded attempt at a one-question
// quiz. The question is saved by its question type, as the question editing form does it: the core_question
// generator's create_question() needs PHPUnit, which a production image has not.
// "read": the same things as the installed code sees them. Both print one JSON object on stdout.
// Usage: php quiz_attempt.php make|read

define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIR') . '/config.php');
require_once($CFG->libdir . '/questionlib.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
require_once($CFG->dirroot . '/mod/quiz/locallib.php');

use mod_quiz\quiz_attempt;
use mod_quiz\quiz_settings;

const COURSE = 'UPGRADE101';
const STUDENT = 'upgrade.student';
const QUIZ = 'Upgrade quiz';

function make(): array {
    global $DB, $USER;
    $generator = new testing_data_generator();
    $course = $generator->create_course(['shortname' => COURSE, 'fullname' => 'Kept across the upgrade']);
    $student = $generator->create_user(['username' => STUDENT, 'firstname' => 'Upgrade', 'lastname' => 'Student']);
    $generator->enrol_user($student->id, $course->id, 'student');
    $quiz = $generator->create_module('quiz', ['course' => $course->id, 'name' => QUIZ, 'grade' => 10]);

    $context = context_module::instance($quiz->cmid);
    $category = $generator->get_plugin_generator('core_question')->create_question_category(['contextid' => $context->id]);
    $form = (object) [
        'category' => "{$category->id},{$category->contextid}",
        'name' => 'Upgrades keep data',
        'questiontext' => ['text' => 'A Moodle upgrade keeps every quiz attempt.', 'format' => FORMAT_HTML],
        'generalfeedback' => ['text' => '', 'format' => FORMAT_HTML],
        'defaultmark' => 1,
        'correctanswer' => '1',
        'feedbacktrue' => ['text' => '', 'format' => FORMAT_HTML],
        'feedbackfalse' => ['text' => '', 'format' => FORMAT_HTML],
        'penalty' => 1,
        'status' => \core_question\local\bank\question_version_status::QUESTION_STATUS_READY,
    ];
    $question = question_bank::get_qtype('truefalse')->save_question((object) ['qtype' => 'truefalse'], $form);
    quiz_add_quiz_question($question->id, $DB->get_record('quiz', ['id' => $quiz->id]));
    quiz_settings::create($quiz->id)->get_grade_calculator()->recompute_quiz_sumgrades();

    // As the student, the way the quiz pages do it: start, answer "true" (the fields the attempt page posts),
    // submit, grade. The generator's submit_responses() needs PHPUnit too.
    \core\session\manager::set_user($student);
    $started = $generator->get_plugin_generator('mod_quiz')->create_attempt($quiz->id, $student->id);
    $attempt = quiz_attempt::create($started->id);
    $answer = $attempt->get_question_attempt(1);
    $attempt->process_submitted_actions(time(), false, [
        $answer->get_control_field_name('sequencecheck') => (string) $answer->get_sequence_check_count(),
        $answer->get_qt_field_name('answer') => '1',
    ]);
    $attempt->process_submit(time(), false);
    $attempt->process_grade_submission(time());
    \core\session\manager::set_user(get_admin());
    return read();
}

function read(): array {
    global $DB;
    $course = $DB->get_record('course', ['shortname' => COURSE], '*', MUST_EXIST);
    $student = core_user::get_user_by_username(STUDENT, '*', null, MUST_EXIST);
    $quiz = $DB->get_record('quiz', ['course' => $course->id, 'name' => QUIZ], '*', MUST_EXIST);
    $attempts = quiz_get_user_attempts($quiz->id, $student->id, 'all');
    $attempt = quiz_attempt::create(reset($attempts)->id);
    $grade = $DB->get_record('quiz_grades', ['quiz' => $quiz->id, 'userid' => $student->id], '*', MUST_EXIST);
    return [
        'course' => ['id' => (int) $course->id, 'fullname' => $course->fullname],
        'student' => [
            'id' => (int) $student->id,
            'enrolled' => is_enrolled(context_course::instance($course->id), $student),
            'role' => array_values(array_map(fn($role) => $role->shortname,
                get_user_roles(context_course::instance($course->id), $student->id))),
        ],
        'attempts' => count($attempts),
        'attempt' => [
            'id' => (int) $attempt->get_attemptid(),
            'state' => $attempt->get_state(),
            'sumgrades' => (float) $attempt->get_sum_marks(),
            'response' => $attempt->get_question_attempt(1)->get_response_summary(),
            'mark' => (float) $attempt->get_question_attempt(1)->get_mark(),
        ],
        'quiz_grade' => (float) $grade->grade,
    ];
}

$mode = $argv[1] ?? '';
if (!in_array($mode, ['make', 'read'], true)) {
    fwrite(STDERR, "usage: php quiz_attempt.php make|read\n");
    exit(2);
}
echo json_encode($mode === 'make' ? make() : read()), "\n";
