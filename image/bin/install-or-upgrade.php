<?php
// install-or-upgrade: installs Moodle into an empty database or upgrades it to the code's version, then
// backs Moodle's application and session caches with Redis. Safe to run any number of times, also at
// once: a MySQL named lock, held on one connection for the whole run, lets one run do the work while the
// others wait for it and then find nothing left to do. Exit codes are listed in docs/IMAGE.md.
// MOODLE_INSTALL_OR_UPGRADE_STEP splits a deploy's upgrade into steps around Moodle's CLI maintenance mode
// (see "Upgrade steps and maintenance mode" below and docs/UPGRADES.md).

declare(strict_types=1);

const EXIT_CONFIG = 2;
const EXIT_DATABASE_TIMEOUT = 3;
const EXIT_LOCK_TIMEOUT = 4;
const EXIT_INSTALL_OR_UPGRADE_FAILED = 5;
const EXIT_CACHE_SETUP_FAILED = 6;
const EXIT_UNFINISHED_INSTALL_HOLDS_DATA = 9;
const EXIT_UPGRADE_STILL_PENDING = 10;
const EXIT_UNKNOWN_SETTINGS = 11;
const EXIT_MISSING_PLUGINS = 12;

// An unfinished first install is cleared automatically only while the database holds no more than what
// the installer itself creates: the guest and admin users and the site course.
const FRESH_INSTALL_MAX_ROWS = ['user' => 2, 'course' => 1];

// MySQL errors that waiting will not cure: access denied (user, database) and unknown database.
const PERMANENT_CONNECT_ERRORS = [1044, 1045, 1049];

// Uncaught errors and fatals end the run with one line on stderr and exit code 1.
require_once(__DIR__ . '/cli-errors.php');
moodle_image_report_errors();
define('CLI_SCRIPT', true);
// Only read the configuration: the database may not be reachable, or installed, yet.
define('ABORT_AFTER_CONFIG', true);
$moodledir = getenv('MOODLE_DIR') ?: '/var/www/moodle';
// Exits with EXIT_CONFIG itself, naming any missing variable.
require($moodledir . '/config.php');
require(__DIR__ . '/site-marker.php');

function say(string $message): void {
    fwrite(STDERR, "install-or-upgrade: $message\n");
}

function fail(int $exitcode, string $message): never {
    say("ERROR: $message");
    exit($exitcode);
}

function seconds_from_env(string $name, int $default): int {
    $value = getenv($name);
    if ($value === false || $value === '') {
        return $default;
    }
    if (!ctype_digit($value)) {
        fail(EXIT_CONFIG, "environment variable $name must be a whole number of seconds");
    }
    return (int) $value;
}

// Every wait for the database is bounded by MOODLE_DB_WAIT_SECONDS, also when the server accepts connections
// and never answers (a stopped server process, some failovers): mysqli's connect timeout covers only the TCP
// connect, and mysqlnd waits a day for a reply by default. The lock connection therefore has a read timeout,
// the lock is asked for in short rounds that each get a reply, and while a Moodle script runs the lock
// connection checks that the database still answers (run_php()).
const LOCK_POLL_SECONDS = 5;

function database_address(stdClass $cfg): string {
    return "{$cfg->dbhost}:{$cfg->dboptions['dbport']}";
}

/** What this run waits for on the database now; named when the wait runs out. */
function database_activity(?string $now = null): string {
    static $activity = 'install-or-upgrade checked the site';
    $activity = $now ?? $activity;
    return $activity;
}

// MySQL client errors of a connection that gave no reply within the read timeout or was closed.
const CONNECTION_LOST_ERRORS = [2006, 2013];

function connect_when_ready(stdClass $cfg, int $waitseconds): mysqli {
    $address = database_address($cfg);
    $deadline = time() + $waitseconds;
    while (true) {
        try {
            $db = mysqli_init();
            $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, max(1, min(5, $waitseconds)));
            // Bounds the handshake and every reply on this connection; a lock round replies within its poll.
            $db->options(MYSQLI_OPT_READ_TIMEOUT, max(1, $waitseconds) + LOCK_POLL_SECONDS);
            // The failure is reported by the exception; mysqlnd's own warning would only repeat it.
            @$db->real_connect($cfg->dbhost, $cfg->dbuser, $cfg->dbpass, $cfg->dbname, $cfg->dboptions['dbport']);
            return $db;
        } catch (mysqli_sql_exception $e) {
            if (in_array($e->getCode(), PERMANENT_CONNECT_ERRORS, true)) {
                fail(EXIT_CONFIG, "the database at $address refused the configured credentials: {$e->getMessage()}");
            }
            if (time() >= $deadline) {
                $how = in_array($e->getCode(), CONNECTION_LOST_ERRORS, true)
                    ? 'accepted connections but did not answer' : 'was not reachable';
                fail(EXIT_DATABASE_TIMEOUT, "the database at $address $how within {$waitseconds} s "
                    . "(MOODLE_DB_WAIT_SECONDS): {$e->getMessage()}");
            }
            say("waiting for the database at $address: {$e->getMessage()}");
            sleep(2);
        }
    }
}

// The lock is asked for in rounds of LOCK_POLL_SECONDS, so that a database that stops answering is noticed
// by the read timeout instead of looking like a long wait for the lock.
function acquire_lock(mysqli $db, string $name, int $waitseconds): void {
    say("waiting up to {$waitseconds} s for the lock '$name'");
    database_activity("waiting for the lock '$name'");
    $deadline = time() + $waitseconds;
    do {
        $round = max(0, min(LOCK_POLL_SECONDS, $deadline - time()));
        $result = $db->execute_query('SELECT GET_LOCK(?, ?)', [$name, $round])->fetch_row()[0];
        if ($result === 1 || $result === '1') {
            database_activity('install-or-upgrade checked the site');
            return;
        }
    } while (time() < $deadline);
    fail(EXIT_LOCK_TIMEOUT, "another install-or-upgrade held the lock '$name' for more than {$waitseconds} s");
}

function table_exists(mysqli $db, string $table): bool {
    $query = 'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?';
    return $db->execute_query($query, [$table])->num_rows > 0;
}

function config_value(mysqli $db, string $prefix, string $name): ?string {
    $row = $db->execute_query("SELECT value FROM `{$prefix}config` WHERE name = ?", [$name])->fetch_row();
    return $row === null ? null : (string) $row[0];
}

// Moodle's own markers: the config table exists from early in an install, and `rolesactive` is set as the
// install's very last step (during_initial_install() is true until then).
function site_state(mysqli $db, string $prefix): string {
    if (!table_exists($db, $prefix . 'config')) {
        return 'empty';
    }
    return in_array(config_value($db, $prefix, 'rolesactive'), [null, '', '0'], true) ? 'unfinished' : 'installed';
}

/** What an unfinished install's database holds beyond a fresh install's, e.g. ["5 users"]. */
function data_beyond_a_fresh_install(mysqli $db, string $prefix): array {
    $found = [];
    foreach (FRESH_INSTALL_MAX_ROWS as $table => $fresh) {
        if (table_exists($db, $prefix . $table)) {
            $rows = (int) $db->query("SELECT COUNT(*) FROM `{$prefix}{$table}`")->fetch_row()[0];
            if ($rows > $fresh) {
                $found[] = "$rows rows in {$prefix}{$table}";
            }
        }
    }
    return $found;
}

// The server may still run statements of the stopped install (its connections outlive the task until the
// server notices), and an open transaction of theirs holds metadata locks that would block the drops, or
// race with them. Only the sessions the install recorded are ended: other runs of install-or-upgrade may
// be connected and waiting for the lock. A recorded ID is ended only while it belongs to this user and
// database (IDs are unique until the server restarts, which ends every session anyway).
const INSTALL_SESSIONS_FILE = 'install-database-sessions.txt';

function install_sessions_file(stdClass $cfg): string {
    return $cfg->dataroot . '/' . INSTALL_SESSIONS_FILE;
}

function end_orphaned_sessions(mysqli $db, stdClass $cfg, int $waitseconds): void {
    $path = install_sessions_file($cfg);
    $lines = is_readable($path) ? file($path, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) : [];
    $recorded = array_map('intval', $lines ?: []);
    if (!$recorded) {
        return;
    }
    $query = 'SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()'
        . " AND user = SUBSTRING_INDEX(USER(), '@', 1) AND id IN (" . implode(', ', $recorded) . ')';
    $deadline = time() + $waitseconds;
    while ($sessions = array_column($db->query($query)->fetch_all(), 0)) {
        if (time() > $deadline) {
            fail(EXIT_INSTALL_OR_UPGRADE_FAILED, 'sessions of the stopped install did not end within '
                . "{$waitseconds} s: " . implode(', ', $sessions));
        }
        say('ending ' . count($sessions) . ' database session(s) left by the stopped install: '
            . implode(', ', $sessions));
        foreach ($sessions as $id) {
            try {
                $db->query('KILL ' . (int) $id);
            } catch (mysqli_sql_exception $e) {
                // Gone in the meantime (1094: unknown thread).
                if ($e->getCode() !== 1094) {
                    throw $e;
                }
            }
        }
        sleep(1);
    }
}

// A first install that was stopped part-way (task stopped, out of memory, deploy timeout) leaves tables
// that make every later install fail. It never held a site: drop this prefix's tables and move the
// files it left in the data directory aside, then install again.
function clear_unfinished_install(mysqli $db, stdClass $cfg, int $waitseconds): void {
    $beyond = data_beyond_a_fresh_install($db, $cfg->prefix);
    if ($beyond) {
        fail(EXIT_UNFINISHED_INSTALL_HOLDS_DATA, "the database {$cfg->dbname} holds an unfinished Moodle install "
            . "(its config table has no 'rolesactive'), but also " . implode(', ', $beyond) . ', which a fresh '
            . 'install never creates. Not touching it. If it should be a new site, drop its tables with the '
            . "prefix '{$cfg->prefix}' and run install-or-upgrade again; if it holds a site you need, restore "
            . 'the database from a backup (docs/IMAGE.md, exit code 9).');
    }
    end_orphaned_sessions($db, $cfg, $waitseconds);
    $tables = $db->execute_query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()'
        . ' AND LEFT(table_name, CHAR_LENGTH(?)) = ?', [$cfg->prefix, $cfg->prefix])->fetch_all();
    say('found an unfinished first install (' . count($tables) . " tables with the prefix '{$cfg->prefix}', "
        . "no 'rolesactive'): removing it");
    $db->query('SET SESSION foreign_key_checks = 0');
    // A session nobody recorded (an operator's client, an install by an image without the record) may
    // still lock a table: each drop waits for it only so long, then the run stops naming the table.
    $db->query('SET SESSION lock_wait_timeout = ' . max(1, $waitseconds));
    foreach ($tables as [$table]) {
        try {
            $db->query("DROP TABLE `$table`");
        } catch (mysqli_sql_exception $e) {
            if ($e->getCode() !== 1205) {
                throw $e;
            }
            fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "dropping the unfinished install's table $table waited "
                . "{$waitseconds} s for a lock another database session holds: end that session (SHOW PROCESSLIST) "
                . 'and run again');
        }
    }
    $aside = $cfg->dataroot . '/.unfinished-install-' . gmdate('Ymd\THis\Z');
    $entries = array_diff(scandir($cfg->dataroot) ?: [], ['.', '..']);
    $entries = array_filter($entries, fn($name) => !str_starts_with($name, '.unfinished-install-'));
    if ($entries) {
        mkdir($aside, 02770);
        foreach ($entries as $name) {
            if (!@rename("{$cfg->dataroot}/$name", "$aside/$name")) {
                fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "could not move {$cfg->dataroot}/$name aside: "
                    . (error_get_last()['message'] ?? 'unknown error'));
            }
        }
        say('moved what it left in the data directory to ' . basename($aside) . ' (safe to delete)');
    }
}

// Moodle sets `upgraderunning` while it upgrades and refuses to start another upgrade until it expires.
// Under the lock no other run can be upgrading, so a value left by a run that was stopped is stale.
function clear_stale_upgrade_flag(mysqli $db, string $prefix): void {
    if (config_value($db, $prefix, 'upgraderunning') === null) {
        return;
    }
    say('clearing the upgrade flag left by an upgrade that was stopped part-way');
    $status = run_php(__DIR__ . '/clear-upgrade-flag.php');
    if ($status !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "clearing Moodle's stale upgrade flag failed with status $status");
    }
}

// Runs a PHP script as a child process (a fresh Moodle bootstrap each), streaming its output. Meanwhile the
// lock connection asks the database every LOCK_POLL_SECONDS whether it still answers: Moodle's own connection
// has no read timeout (an upgrade step may run one statement for a long time), so a database that stops
// answering would hold the script, and the deploy, forever. Then the script is stopped with exit code 3.
function run_php(string $script, string ...$arguments): int {
    return run_child($script, $arguments, STDOUT);
}

/** @param resource|array $stdout where the script's standard output goes */
function run_child(string $script, array $arguments, mixed $stdout): int {
    global $db;
    $process = proc_open([PHP_BINARY, $script, ...$arguments], [['file', '/dev/null', 'r'], $stdout, STDERR], $pipes);
    if ($process === false) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "could not start $script");
    }
    $before = database_activity();
    $moodledir = getenv('MOODLE_DIR') ?: '/var/www/moodle';
    $name = str_starts_with($script, "$moodledir/") ? substr($script, strlen($moodledir) + 1) : basename($script);
    database_activity("$name ran (stopped it)");
    $checked = time();
    while (($status = proc_get_status($process))['running']) {
        usleep(100000);
        if (isset($db) && time() - $checked >= LOCK_POLL_SECONDS) {
            try {
                $db->query('SELECT 1');
            } catch (mysqli_sql_exception $e) {
                proc_terminate($process, 9);
                proc_close($process);
                throw $e;
            }
            $checked = time();
        }
    }
    proc_close($process);
    database_activity($before);
    return $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
}

function required_env(string ...$names): array {
    $values = [];
    $missing = [];
    foreach ($names as $name) {
        $value = getenv($name);
        if ($value === false || $value === '') {
            $missing[] = $name;
        }
        $values[] = (string) $value;
    }
    if ($missing) {
        fail(EXIT_CONFIG, 'installing Moodle needs the environment variable(s) ' . implode(', ', $missing));
    }
    return $values;
}

function install(string $moodledir): void {
    [$password, $email, $fullname, $shortname] = required_env(
        'MOODLE_ADMIN_PASSWORD', 'MOODLE_ADMIN_EMAIL', 'MOODLE_SITE_FULLNAME', 'MOODLE_SITE_SHORTNAME');
    say('the database is empty: installing Moodle');
    // config.php records the installer's database session there (a recovery ends exactly those sessions).
    global $CFG;
    putenv('MOODLE_INSTALL_SESSIONS_FILE=' . install_sessions_file($CFG));
    $status = run_php("$moodledir/admin/cli/install_database.php",
        '--agree-license',
        '--adminuser=' . (getenv('MOODLE_ADMIN_USER') ?: 'admin'),
        "--adminpass=$password",
        "--adminemail=$email",
        "--fullname=$fullname",
        "--shortname=$shortname");
    putenv('MOODLE_INSTALL_SESSIONS_FILE');
    if ($status !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "admin/cli/install_database.php failed with status $status");
    }
    @unlink(install_sessions_file($CFG));
}

// Uninstalls the plugins cdk.json names (after the plan's snapshot), then upgrades if Moodle says so, both
// behind the maintenance page. Nothing to do leaves the page alone.
function upgrade_if_pending(string $moodledir, array $uninstall): void {
    $upgradescript = "$moodledir/admin/cli/upgrade.php";
    if ($uninstall) {
        enter_upgrade_maintenance($moodledir, 'uninstall ' . implode(', ', $uninstall));
        $status = run_php(__DIR__ . '/uninstall-plugins.php', ...$uninstall);
        if ($status !== 0) {
            say(MAINTENANCE_LEFT_ON . ': uninstalling plugins failed; see docs/UPGRADES.md');
            fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "uninstall-plugins.php failed with status $status");
        }
    }
    // Exit status 0: nothing to do, 2: an upgrade is pending.
    $status = run_php($upgradescript, '--is-pending');
    if ($status !== 0 && $status !== 2) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "admin/cli/upgrade.php --is-pending failed with status $status");
    }
    if ($status === 0 && !$uninstall) {
        say('the database is up to date');
        return;
    }
    if ($status === 2) {
        say('upgrading Moodle');
        enter_upgrade_maintenance($moodledir, 'upgrade');
        $status = run_php($upgradescript, '--non-interactive');
        if ($status !== 0) {
            say(MAINTENANCE_LEFT_ON . ': the upgrade failed half-way; see docs/UPGRADES.md');
            fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "admin/cli/upgrade.php failed with status $status");
        }
    }
    if (upgrade_step() === STEP_ALL) {
        lift_upgrade_maintenance($moodledir);
    }
}

// ---- Plugins in the database that the image lacks (docs/UPGRADES.md, "Removing a plugin") ----
// Moodle keeps a removed add-on plugin's tables, settings and tasks forever and lists it as missing. A
// deploy refuses such a database, naming each plugin, unless cdk.json lists the plugin in
// moodle.uninstall_plugins (MOODLE_UNINSTALL_PLUGINS, comma-separated): then Moodle's own uninstall runs.

/** The components MOODLE_UNINSTALL_PLUGINS names. */
function plugins_to_uninstall(): array {
    $listed = array_map('trim', explode(',', (string) getenv('MOODLE_UNINSTALL_PLUGINS')));
    $listed = array_values(array_filter($listed));
    foreach ($listed as $component) {
        if (!preg_match('/^[a-z][a-z0-9]*_[a-z][a-z0-9_]*$/', $component)) {
            fail(EXIT_CONFIG, "MOODLE_UNINSTALL_PLUGINS: '$component' is no plugin component name like "
                . 'mod_customcert');
        }
    }
    return $listed;
}

/** What upgrade-plan.php reports for the installed site. */
function site_plan(): array {
    return json_decode(capture_php(__DIR__ . '/upgrade-plan.php'), true, 8, JSON_THROW_ON_ERROR);
}

/** The missing plugins to uninstall now; refuses (exit 12) plugins cdk.json does not list. */
function missing_plugins_to_uninstall(array $plan): array {
    $listed = plugins_to_uninstall();
    $missing = array_column($plan['missing'], 'from', 'component');
    $refused = array_diff_key($missing, array_flip($listed));
    if ($refused) {
        $named = implode(', ', array_map(fn($component) => "$component (version {$refused[$component]})",
            array_keys($refused)));
        fail(EXIT_MISSING_PLUGINS, "the database holds add-on plugins this image lacks: $named. Build them "
            . 'into the image again (moodle_release.plugins in cdk.json), or list them, subplugins included, in '
            . 'moodle.uninstall_plugins to uninstall them with all their data (docs/UPGRADES.md)');
    }
    // Moodle lists subplugin types after their parents' types: subplugins go first.
    return array_reverse(array_keys($missing));
}
// ---- end of missing plugins ----

// ---- Upgrade steps and maintenance mode (docs/UPGRADES.md) ----
// A deploy runs the steps plan, upgrade and finish: plan tells it whether to snapshot the database first,
// upgrade leaves Moodle's CLI maintenance mode on (every web task, old and new, answers 503 with the
// maintenance page, and never touches the database), finish lifts it once the new web tasks serve.
// hold puts it back on when a rollback would otherwise serve an upgraded schema with the previous code.

const STEP_ALL = 'all';
const STEP_PLAN = 'plan';
const STEP_UPGRADE = 'upgrade';
const STEP_FINISH = 'finish';
const STEP_HOLD = 'hold';
const STEPS = [STEP_ALL, STEP_PLAN, STEP_UPGRADE, STEP_FINISH, STEP_HOLD];
// Marks maintenance that an upgrade turned on, so that finish never lifts an operator's own.
const UPGRADE_MAINTENANCE_MARKER = 'upgrade-maintenance.json';
// Log lines the deploy reads (plan) and alarms on (maintenance left on).
const PLAN_PREFIX = 'plan ';
const RELEASE_PREFIX = 'release ';
const MAINTENANCE_LEFT_ON = 'MAINTENANCE LEFT ON';
const MAINTENANCE_LIFTED = 'MAINTENANCE LIFTED';

function upgrade_step(): string {
    $step = getenv('MOODLE_INSTALL_OR_UPGRADE_STEP') ?: STEP_ALL;
    if (!in_array($step, STEPS, true)) {
        fail(EXIT_CONFIG, "MOODLE_INSTALL_OR_UPGRADE_STEP '$step' is not one of: " . implode(', ', STEPS));
    }
    return $step;
}

function upgrade_maintenance_marker(): string {
    global $CFG;
    return $CFG->dataroot . '/' . UPGRADE_MAINTENANCE_MARKER;
}

function enter_upgrade_maintenance(string $moodledir, string $reason): void {
    global $CFG;
    if (!file_exists(upgrade_maintenance_marker())) {
        if (file_exists("$CFG->dataroot/climaintenance.html")) {
            say('maintenance mode was already on, not by an upgrade: it stays on until an operator lifts it');
            return;
        }
        // The marker first: a crash in between leaves a marker without maintenance, never the reverse.
        $marker = json_encode(['reason' => $reason, 'since' => gmdate('c')]) . "\n";
        if (file_put_contents(upgrade_maintenance_marker(), $marker) === false) {
            fail(EXIT_INSTALL_OR_UPGRADE_FAILED, 'could not write ' . upgrade_maintenance_marker());
        }
    }
    // Does nothing if it is on already.
    $status = run_php("$moodledir/admin/cli/maintenance.php", '--enable');
    if ($status !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "admin/cli/maintenance.php --enable failed with status $status");
    }
    say("maintenance mode on ($reason)");
}

function lift_upgrade_maintenance(string $moodledir): void {
    if (!file_exists(upgrade_maintenance_marker())) {
        say('no upgrade maintenance mode to lift');
        return;
    }
    $status = run_php("$moodledir/admin/cli/maintenance.php", '--disable');
    if ($status !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "admin/cli/maintenance.php --disable failed with status $status");
    }
    unlink(upgrade_maintenance_marker());
    say(MAINTENANCE_LIFTED);
}

// Runs a PHP script as a child process and returns its stdout; its stderr is streamed.
function capture_php(string $script): string {
    $output = tmpfile();
    $status = run_child($script, [], $output);
    rewind($output);
    $text = stream_get_contents($output);
    fclose($output);
    if ($status !== 0 || $text === false) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "$script failed with status $status");
    }
    return $text;
}

// One log line: "plan {json}" with action install, upgrade, none or downgrade (the database is newer than
// this code: the deploy refuses to go on), from/to versions and changed plugins.
function print_plan(mysqli $db, string $prefix): void {
    $plan = ['action' => 'install'];
    if (site_state($db, $prefix) === 'installed') {
        $plan = site_plan();
        $listed = plugins_to_uninstall();
        $plan['uninstall'] = array_values(array_intersect(array_column($plan['missing'], 'component'), $listed));
        $changes = $plan['pending'] || $plan['uninstall'];
        $action = $plan['downgrades'] ? 'downgrade' : ($changes ? 'upgrade' : 'none');
        $plan = ['action' => $action] + $plan;
        unset($plan['pending']);
    }
    $plan['maintenance'] = file_exists(upgrade_maintenance_marker());
    say(PLAN_PREFIX . json_encode($plan, JSON_UNESCAPED_SLASHES));
    // A downgrade is refused by the deploy already, with its own message.
    if (isset($plan['missing']) && $plan['action'] !== 'downgrade') {
        missing_plugins_to_uninstall($plan);
    }
}

// Lifts the upgrade's maintenance mode, but only once the database matches this image's code.
function finish_upgrade(string $moodledir): void {
    $status = run_php("$moodledir/admin/cli/upgrade.php", '--is-pending');
    if ($status !== 0) {
        say(MAINTENANCE_LEFT_ON . ': the database does not match this image; see docs/UPGRADES.md');
        fail(EXIT_UPGRADE_STILL_PENDING, "admin/cli/upgrade.php --is-pending exited $status: not lifting maintenance");
    }
    lift_upgrade_maintenance($moodledir);
}

// One log line: "release {json}", the release and version the database holds now (the deploy reports it).
function print_release(mysqli $db, string $prefix): void {
    $rows = $db->execute_query("SELECT name, value FROM {$prefix}config WHERE name IN ('release', 'version')");
    say(RELEASE_PREFIX . json_encode(array_column($rows->fetch_all(MYSQLI_ASSOC), 'value', 'name')));
}

// Runs the steps that are not an install or upgrade; returns false for those that are.
function run_upgrade_step(string $step, mysqli $db, stdClass $cfg, string $moodledir): bool {
    switch ($step) {
        case STEP_PLAN:
            print_plan($db, $cfg->prefix);
            return true;
        case STEP_FINISH:
            finish_upgrade($moodledir);
            return true;
        case STEP_HOLD:
            enter_upgrade_maintenance($moodledir, 'rollback after an upgrade');
            say(MAINTENANCE_LEFT_ON . ': the deploy rolled back after an upgrade; see docs/UPGRADES.md');
            return true;
    }
    return false;
}
// ---- end of upgrade steps ----

$step = upgrade_step();
if (!in_array($CFG->dbtype, ['mysqli', 'mariadb', 'auroramysql'], true)) {
    fail(EXIT_CONFIG, "MOODLE_DB_TYPE '{$CFG->dbtype}' is not supported: the lock needs MySQL or MariaDB");
}
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
$waitseconds = seconds_from_env('MOODLE_DB_WAIT_SECONDS', 300);
try {
    $db = connect_when_ready($CFG, $waitseconds);
    // Lock names are server-wide: name this site's database and prefix (MySQL allows 64 characters).
    $lockname = substr("{$CFG->dbname}.{$CFG->prefix}install_or_upgrade", 0, 64);
    acquire_lock($db, $lockname, seconds_from_env('MOODLE_LOCK_WAIT_SECONDS', 3600));
    // Every step but the plan, which changes nothing, runs Moodle's CLI scripts, and they refuse to start
    // while the flag is set; under the lock no upgrade can be running.
    if ($step !== STEP_PLAN && site_state($db, $CFG->prefix) === 'installed') {
        clear_stale_upgrade_flag($db, $CFG->prefix);
    }
    if (run_upgrade_step($step, $db, $CFG, $moodledir)) {
        $db->close();
        say('done');
        exit(0);
    }

    $state = site_state($db, $CFG->prefix);
    if ($state === 'unfinished') {
        clear_unfinished_install($db, $CFG, $waitseconds);
        $state = 'empty';
    }
    if ($state === 'installed') {
        upgrade_if_pending($moodledir, missing_plugins_to_uninstall(site_plan()));
    } else {
        install($moodledir);
    }
    $status = run_php(__DIR__ . '/configure-cache.php');
    if ($status !== 0) {
        fail(EXIT_CACHE_SETUP_FAILED, "configuring the Redis cache store failed with status $status");
    }
    site_marker_write($CFG, (string) config_value($db, $CFG->prefix, 'release'));
    print_release($db, $CFG->prefix);
    // Lists the add-on plugins and refuses forced settings that Moodle does not know (cdk.json's settings).
    $status = run_php(__DIR__ . '/check-settings.php');
    if ($status === EXIT_UNKNOWN_SETTINGS) {
        fail(EXIT_UNKNOWN_SETTINGS, 'cdk.json forces settings that Moodle does not know (named above)');
    } elseif ($status !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "check-settings.php failed with status $status");
    }
    // The browser journey's account (image/bin/monitoring-user.php), in environments with the canary.
    if (getenv('MOODLE_MONITOR_PASSWORD') && ($status = run_php(__DIR__ . '/monitoring-user.php')) !== 0) {
        fail(EXIT_INSTALL_OR_UPGRADE_FAILED, "monitoring-user.php failed with status $status");
    }
    // Closing the connection releases the lock.
    $db->close();
    say('done');
} catch (mysqli_sql_exception $e) {
    if (!in_array($e->getCode(), CONNECTION_LOST_ERRORS, true)) {
        throw $e;
    }
    fail(EXIT_DATABASE_TIMEOUT, 'the database at ' . database_address($CFG) . ' stopped answering while '
        . database_activity() . " (no reply within {$waitseconds} s, MOODLE_DB_WAIT_SECONDS, or the connection "
        . "closed): {$e->getMessage()}");
}
