<?php
// Moodle configuration of the container image. Every value comes from an environment variable, so one
// immutable image serves every environment; docs/IMAGE.md lists the variables.

unset($CFG);
global $CFG;
$CFG = new stdClass();

$configproblems = [];

// The value of an environment variable, or $default when it is unset or empty; no default means required.
$configvalue = static function (string $name, ?string $default = null) use (&$configproblems): string {
    $value = getenv($name);
    if ($value !== false && $value !== '') {
        return $value;
    }
    if ($default === null) {
        $configproblems[] = "missing environment variable $name";
        return '';
    }
    return $default;
};

$configflag = static function (string $name, bool $default) use ($configvalue, &$configproblems): bool {
    $value = $configvalue($name, $default ? 'true' : 'false');
    $flag = filter_var($value, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE);
    if ($flag === null) {
        $configproblems[] = "environment variable $name must be true or false";
    }
    return (bool) $flag;
};

$CFG->wwwroot = rtrim($configvalue('MOODLE_WWWROOT'), '/');
// CloudFront terminates TLS and forwards the viewer's Host header: Moodle must generate https URLs while
// receiving plain http. reverseproxy must stay unset, or Moodle refuses requests whose Host is wwwroot's.
$CFG->sslproxy = str_starts_with($CFG->wwwroot, 'https://');
// nginx already replaced REMOTE_ADDR with the client address from trusted proxies (real_ip): skip
// X-Forwarded-For and Client-IP, which a client can forge (GETREMOTEADDR_SKIP_DEFAULT).
$CFG->getremoteaddrconf = 3;

$CFG->dbtype = $configvalue('MOODLE_DB_TYPE', 'mysqli');
$CFG->dblibrary = 'native';
$CFG->dbhost = $configvalue('MOODLE_DB_HOST');
$CFG->dbname = $configvalue('MOODLE_DB_NAME');
$CFG->dbuser = $configvalue('MOODLE_DB_USER');
$CFG->dbpass = $configvalue('MOODLE_DB_PASSWORD');
$CFG->prefix = $configvalue('MOODLE_DB_PREFIX', 'mdl_');
$CFG->dboptions = [
    'dbpersist' => false,
    'dbport' => (int) $configvalue('MOODLE_DB_PORT', '3306'),
    'dbsocket' => '',
    'dbcollation' => 'utf8mb4_unicode_ci',
];

// Shared by every task (EFS): files, MUC config and locks, temp files of multi-request operations.
$CFG->dataroot = rtrim($configvalue('MOODLE_DATAROOT', '/var/www/moodledata'), '/');
$CFG->tempdir = $CFG->dataroot . '/temp';
$CFG->cachedir = $CFG->dataroot . '/cache';
$CFG->backuptempdir = $CFG->dataroot . '/backuptemp';
// Local to each task: hot caches and per-request scratch space stay off the network file system.
$CFG->localcachedir = rtrim($configvalue('MOODLE_LOCAL_CACHE_DIR', '/var/cache/moodle'), '/');
$CFG->localrequestdir = sys_get_temp_dir();
// Only the runtime user (uid 33) reads and writes moodledata.
$CFG->directorypermissions = 02770;

// nginx serves these directories itself (internal locations of the same names in nginx.conf).
$CFG->xsendfile = 'X-Accel-Redirect';
$CFG->xsendfilealiases = [
    '/dataroot/' => $CFG->dataroot,
    '/localcachedir/' => $CFG->localcachedir,
];

$redistls = $configflag('MOODLE_REDIS_TLS', true);
// The image's session handler (plugin cachestore_persistentredis, docs/IMAGE.md): Moodle's Redis handler on
// a persistent connection per php-fpm worker, with bounded timeouts and a 503 while Redis does not answer.
$CFG->session_handler_class = '\cachestore_persistentredis\session_handler';
$CFG->session_redis_host = $configvalue('MOODLE_REDIS_HOST');
$CFG->session_redis_port = (int) $configvalue('MOODLE_REDIS_PORT', '6379');
$CFG->session_redis_auth = $configvalue('MOODLE_REDIS_AUTH', '');
$CFG->session_redis_prefix = $CFG->prefix;
// phpredis switches to TLS when given stream options. The server's certificate and name are verified against
// the CAs that can issue ElastiCache's certificates only: OpenSSL parses the whole CA file on every connect,
// and the system bundle costs ~19 ms of CPU each time (docs/IMAGE.md).
$CFG->session_redis_encrypt = $redistls
    ? ['cafile' => $configvalue('MOODLE_REDIS_CAFILE', '/etc/ssl/elasticache-ca.pem')]
    : false;
// Parallel AJAX requests of one browser queue on the session lock: poll it every 20 ms instead of 100 ms,
// and let pages that do not write the session skip the lock altogether.
$CFG->session_redis_acquire_lock_retry = 20;
$CFG->enable_read_only_sessions = true;

$smtphost = $configvalue('MOODLE_SMTP_HOST', '');
if ($smtphost !== '') {
    $CFG->smtphosts = $smtphost . ':' . $configvalue('MOODLE_SMTP_PORT', '587');
    $CFG->smtpuser = $configvalue('MOODLE_SMTP_USER', '');
    $CFG->smtppass = $configvalue('MOODLE_SMTP_PASSWORD', '');
    $CFG->smtpsecure = $configvalue('MOODLE_SMTP_SECURE', '');
}
$noreplyaddress = $configvalue('MOODLE_NOREPLY_ADDRESS', '');
if ($noreplyaddress !== '') {
    $CFG->noreplyaddress = $noreplyaddress;
}

$CFG->admin = 'admin';
// nginx sends every path that is no file to r.php (nginx.conf), so Moodle leaves r.php out of its URLs.
$CFG->routerconfigured = true;
// The code is read-only and replaced only by a new image: no executable paths, no plugin installs from the UI.
$CFG->preventexecpath = true;
$CFG->disableupdateautodeploy = true;

// ---- Moodle as code (cdk.json): language packs and forced site settings ------------------------------------
// This section only adds settings; docs/IMAGE.md ("Plugins, language packs and site settings") explains it.
// Language packs are built into the image beside the code, not into moodledata, so every task has the same.
// The code is read-only: the scheduled task that would update them in place is switched off.
$CFG->langotherroot = '/var/www/moodle-lang';
$CFG->scheduled_tasks = ['\tool_langimport\task\update_langpacks_task' => ['disabled' => 1]];
// MOODLE_FORCED_SETTINGS = {"core": {name: value}, "plugins": {plugin: {name: value}}}: forced here, so the
// admin pages show each as set in config.php and no task can drift. A value {"env": NAME} is the variable
// NAME, which ECS fills from Secrets Manager: secrets never appear in the JSON.
$forcedsettings = json_decode($configvalue('MOODLE_FORCED_SETTINGS', '{}'), true);
$forcedvalue = static function (mixed $value, string $name) use (&$configproblems): mixed {
    if (!is_array($value)) {
        return is_bool($value) ? (int) $value : $value;
    }
    $secret = getenv((string) ($value['env'] ?? ''));
    if ($secret === false) {
        $configproblems[] = "missing environment variable " . ($value['env'] ?? '?') . " (the value of setting $name)";
        return '';
    }
    return $secret;
};
if (!is_array($forcedsettings)) {
    $configproblems[] = 'environment variable MOODLE_FORCED_SETTINGS must be a JSON object';
    $forcedsettings = [];
}
foreach ($forcedsettings['core'] ?? [] as $forcedname => $forced) {
    $CFG->$forcedname = $forcedvalue($forced, $forcedname);
}
foreach ($forcedsettings['plugins'] ?? [] as $forcedplugin => $forcedplugsettings) {
    foreach ($forcedplugsettings as $forcedname => $forced) {
        $CFG->forced_plugin_settings[$forcedplugin][$forcedname] = $forcedvalue($forced, "$forcedplugin/$forcedname");
    }
}
unset($forcedsettings, $forcedvalue, $forcedname, $forced, $forcedplugin, $forcedplugsettings);
// ---- End of Moodle as code -----------------------------------------------------------------------------------

if ($configproblems) {
    // Exit code 2 means "configuration error" to the image's entrypoint (docs/IMAGE.md).
    $message = 'Moodle configuration error: ' . implode('; ', $configproblems) . '.';
    if (PHP_SAPI === 'cli') {
        fwrite(STDERR, $message . PHP_EOL);
        exit(2);
    }
    error_log($message);
    http_response_code(500);
    header('Content-Type: text/plain; charset=utf-8');
    echo $message . "\n";
    exit;
}
unset($configproblems, $configvalue, $configflag, $redistls, $smtphost, $noreplyaddress);

// The same answer for every outage (docs/IMAGE.md): a database Moodle cannot reach gives the web's short 503,
// like Redis, and the CLI's exit code 3 with one plain line on stderr.
require_once('/usr/local/lib/moodle-image/outage.php');
try {
    require_once(__DIR__ . '/lib/setup.php');
} catch (Throwable $bootstrapfailure) {
    moodle_image_bootstrap_failed($bootstrapfailure);
}

// install-or-upgrade runs Moodle's installer with this variable: the installer's database session is recorded
// in the data directory, so that the recovery of an install stopped part-way ends exactly that session and
// never another run's (docs/IMAGE.md, "Installed, unfinished or empty").
$installsessionsfile = getenv('MOODLE_INSTALL_SESSIONS_FILE');
if ($installsessionsfile && isset($DB)) {
    $installsession = $DB->get_field_sql('SELECT CONNECTION_ID()');
    file_put_contents($installsessionsfile, "$installsession\n", FILE_APPEND | LOCK_EX);
}
unset($installsessionsfile, $installsession);
