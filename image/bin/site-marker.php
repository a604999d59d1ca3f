<?php
// The mark install-or-upgrade leaves in the shared data directory once it has prepared it for a database:
// which database (host, name, table prefix) and when. `web` and `cron` refuse to start on a data
// directory without the mark of the configured database: a new or wrong EFS access point would otherwise
// serve pages until the first login fails (no cache configuration, no files of this site).

const SITE_MARKER_FILE = 'moodle-image-site.json';

/** The database a configuration points at, as the mark records it. */
function site_marker_identity(stdClass $cfg): array {
    return [
        'database' => "{$cfg->dbhost}:{$cfg->dboptions['dbport']}/{$cfg->dbname}",
        'prefix' => $cfg->prefix,
    ];
}

function site_marker_path(stdClass $cfg): string {
    return $cfg->dataroot . '/' . SITE_MARKER_FILE;
}

/** Written last by install-or-upgrade; atomic, so a reader never sees half a file. */
function site_marker_write(stdClass $cfg, string $release): void {
    $mark = site_marker_identity($cfg) + ['release' => $release, 'prepared' => gmdate('c')];
    $temporary = site_marker_path($cfg) . '.' . getmypid();
    file_put_contents($temporary, json_encode($mark, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES) . "\n");
    rename($temporary, site_marker_path($cfg));
}

/** Why the data directory is not this database's, or null when it is. */
function site_marker_problem(stdClass $cfg): ?string {
    $path = site_marker_path($cfg);
    $wanted = site_marker_identity($cfg);
    $mark = is_readable($path) ? json_decode((string) file_get_contents($path), true) : null;
    if (!is_array($mark)) {
        return "the shared data directory {$cfg->dataroot} was never prepared by install-or-upgrade";
    }
    $found = array_intersect_key($mark, $wanted);
    if ($found != $wanted) {
        return "the shared data directory {$cfg->dataroot} was prepared for the database "
            . ($mark['database'] ?? '?') . " (prefix " . ($mark['prefix'] ?? '?') . "), not for "
            . "{$wanted['database']} (prefix {$wanted['prefix']})";
    }
    return null;
}
