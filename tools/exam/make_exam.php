<?php
// The exam load test's data set (make bench-exam, docs/CAPACITY.md), made with Moodle's own APIs inside the
// image: one course, N enrolled students with a known password, and one quiz of 16 questions on 8 pages
// (multiple choice, true/false, matching, short answer: the capacity anchor's question types). Prints the
// ids the load generator needs as one JSON object. The question types' own save_question() is used, since
// core_question's generator loads PHPUnit, which a --no-dev build lacks.

define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIR') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->libdir . '/questionlib.php');
require_once($CFG->libdir . '/testing/generator/lib.php');
require_once($CFG->dirroot . '/mod/quiz/locallib.php');

[$options] = cli_get_params(['students' => 0, 'password' => '']);
$students = (int) $options['students'];
if ($students < 1 || $options['password'] === '') {
    cli_error('usage: make_exam.php --students=N --password=PASSWORD');
}

\core\session\manager::set_user(get_admin());
$generator = new testing_data_generator();

$course = $generator->create_course(['fullname' => 'Exam course', 'shortname' => 'exam' . time()]);
$quiz = $generator->create_module('quiz', [
    'course' => $course->id,
    'name' => 'Exam',
    'questionsperpage' => 2,
    'navmethod' => 'free',
    'attempts' => 0,
]);

$bank = \core_question\local\bank\question_bank_helper::get_default_open_instance_system_type($course, true);
$category = question_get_default_category($bank->context->id, true);

$html = static fn(string $text): array => ['text' => $text, 'format' => FORMAT_HTML];
$combinedfeedback = [
    'correctfeedback' => $html(''),
    'partiallycorrectfeedback' => $html(''),
    'incorrectfeedback' => $html(''),
    'shownumcorrect' => 0,
];

// Form data as each question type's editing form submits it.
$forms = [
    'multichoice' => static fn(int $n): array => [
        'questiontext' => $html("Question $n: which of these is a prime number?"),
        'single' => 1,
        'shuffleanswers' => 1,
        'answernumbering' => 'abc',
        'showstandardinstruction' => 0,
        'answer' => [$html('7'), $html('8'), $html('9'), $html('10')],
        'fraction' => ['1.0', '0.0', '0.0', '0.0'],
        'feedback' => [$html(''), $html(''), $html(''), $html('')],
    ] + $combinedfeedback,
    'truefalse' => static fn(int $n): array => [
        'questiontext' => $html("Question $n: water boils at 100 degrees Celsius at sea level."),
        'correctanswer' => 1,
        'showstandardinstruction' => 0,
        'feedbacktrue' => $html(''),
        'feedbackfalse' => $html(''),
    ],
    'match' => static fn(int $n): array => [
        'questiontext' => $html("Question $n: match each country to its capital."),
        'shuffleanswers' => 1,
        'subquestions' => [$html('Uruguay'), $html('France'), $html('Japan')],
        'subanswers' => ['Montevideo', 'Paris', 'Tokyo'],
    ] + $combinedfeedback,
    'shortanswer' => static fn(int $n): array => [
        'questiontext' => $html("Question $n: name the largest planet of the solar system."),
        'usecase' => 0,
        'answer' => ['Jupiter', '*'],
        'fraction' => ['1.0', '0.0'],
        'feedback' => [$html(''), $html('')],
    ],
];

$types = array_keys($forms);
for ($slot = 1; $slot <= 16; $slot++) {
    $type = $types[($slot - 1) % count($types)];
    $form = (object) ($forms[$type]($slot) + [
        'category' => "{$category->id},{$category->contextid}",
        'name' => "Q$slot $type",
        'generalfeedback' => $html(''),
        'defaultmark' => 1,
        'penalty' => 0.3333333,
        'hint' => [],
    ]);
    $question = (object) ['category' => $category->id, 'qtype' => $type, 'createdby' => get_admin()->id];
    $saved = question_bank::get_qtype($type)->save_question($question, $form);
    quiz_add_quiz_question($saved->id, $quiz, (int) ceil($slot / 2));
}
\mod_quiz\quiz_settings::create($quiz->id)->get_grade_calculator()->recompute_quiz_sumgrades();

$first = null;
for ($i = 1; $i <= $students; $i++) {
    $user = $generator->create_user([
        'username' => sprintf('student%05d', $i),
        'password' => $options['password'],
        'firstname' => 'Student',
        'lastname' => (string) $i,
    ]);
    $generator->enrol_user($user->id, $course->id, 'student');
    $first ??= $user->id;
}

echo json_encode([
    'course' => (int) $course->id,
    'quiz' => (int) $quiz->id,
    'cmid' => (int) $quiz->cmid,
    'students' => $students,
    'username_format' => 'student%05d',
    'questions' => 16,
    'pages' => 8,
]), "\n";
