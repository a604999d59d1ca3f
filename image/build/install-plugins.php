<?php
// Image build step: puts the plugins and language packs of cdk.json (moodle.moodle_release) into the image.
// Usage: php install-plugins.php <moodle tree> <language pack directory>
// Reads MOODLE_PLUGINS and MOODLE_LANGUAGE_PACKS, JSON lists that the pipeline passes as build arguments
// (moodle_infra/config.py, MoodleReleaseConfig.build_args). Each download must match its SHA-256. A plugin
// must name, in its version.php, the component it is listed as, and must not declare that it does not
// support this Moodle release; it goes where Moodle's own plugin-type map (lib/components.json and the
// subplugin types of the plugins there) says. Any problem stops the build, naming the plugin or pack.

declare(strict_types=1);

function fail(string $message): never {
    fwrite(STDERR, "ERROR: $message\n");
    exit(1);
}

function say(string $message): void {
    echo "install-plugins: $message\n";
}

/** A JSON list of objects from a build argument; an unset or empty argument is an empty list. */
function list_from_env(string $name, array $keys): array {
    $value = getenv($name);
    if ($value === false || trim($value) === '') {
        return [];
    }
    $items = json_decode($value, true);
    if (!is_array($items) || !array_is_list($items)) {
        fail("build argument $name must be a JSON list (cdk.json writes it), got: $value");
    }
    foreach ($items as $index => $item) {
        foreach ($keys as $key) {
            if (!is_array($item) || !is_string($item[$key] ?? null) || $item[$key] === '') {
                fail("build argument $name: item $index has no \"$key\"");
            }
        }
    }
    return $items;
}

/** The values a version.php sets, read by a separate PHP process so that one file cannot affect the next. */
function read_version_file(string $file, string $variable): array {
    $code = 'define("MOODLE_INTERNAL", true); define("MATURITY_ALPHA", 50); define("MATURITY_BETA", 100);'
        . 'define("MATURITY_RC", 150); define("MATURITY_STABLE", 200); define("ANY_VERSION", "any");'
        . '$plugin = new stdClass(); $module = $plugin; include $argv[1];'
        . 'echo json_encode(["plugin" => $plugin, "version" => $version ?? null, "branch" => $branch ?? null,'
        . ' "release" => $release ?? null]);';
    $output = shell_exec('php -d display_errors=stderr -r ' . escapeshellarg($code) . ' ' . escapeshellarg($file));
    $values = is_string($output) ? json_decode($output, true) : null;
    if (!is_array($values)) {
        fail("could not read $file");
    }
    return $variable === 'plugin' ? (array) $values['plugin'] : $values;
}

/** Runs a shell command; stops the build with $failure when it fails. */
function run(string $command, string $failure): void {
    $status = 0;
    passthru($command, $status);
    if ($status !== 0) {
        fail("$failure (exit code $status)");
    }
}

/** The archive at $url, or the tar archive of $commit of the git repository $git; checked against $sha256. */
function download(string $url, string $sha256, string $what, ?string $commit = null): string {
    $file = tempnam(sys_get_temp_dir(), 'moodle-download-');
    if ($commit === null) {
        say("downloading $what from $url");
        run('curl -fsSL --retry 3 -o ' . escapeshellarg($file) . ' ' . escapeshellarg($url), "could not download $what from $url");
    } else {
        say("fetching $what from $url at commit $commit");
        $clone = sys_get_temp_dir() . '/moodle-git-' . bin2hex(random_bytes(6));
        $git = 'git -C ' . escapeshellarg($clone);
        run("git init -q " . escapeshellarg($clone) . " && $git fetch -q --depth 1 " . escapeshellarg($url) . ' '
            . escapeshellarg($commit), "could not fetch commit $commit of $url for $what");
        run("$git archive --format=tar -o " . escapeshellarg($file) . ' ' . escapeshellarg($commit),
            "could not archive commit $commit of $url for $what");
        run('rm -rf ' . escapeshellarg($clone), "could not remove $clone");
    }
    $actual = hash_file('sha256', $file);
    if (!hash_equals($sha256, $actual)) {
        fail("$what: the SHA-256 of $url is $actual, but cdk.json expects $sha256; "
            . "the download was changed or the checksum in cdk.json is wrong, so nothing is installed");
    }
    return $file;
}

/** Copies an unpacked directory to its place; a copy, unlike rename(), works across file systems. */
function copy_tree(string $from, string $to, string $what): void {
    $status = 0;
    passthru('cp -R ' . escapeshellarg($from) . ' ' . escapeshellarg($to), $status);
    if ($status !== 0) {
        fail("$what: could not copy it to $to");
    }
}

/** Unpacks a .zip or a .tar.gz/.tgz archive (told apart by content, not by name) into a new directory. */
function unpack_archive(string $file, string $what): string {
    $directory = sys_get_temp_dir() . '/moodle-unpacked-' . bin2hex(random_bytes(6));
    mkdir($directory, 0755);
    $magic = (string) file_get_contents($file, false, null, 0, 4);
    if (str_starts_with($magic, "PK")) {
        $zip = new ZipArchive();
        if ($zip->open($file) !== true || !$zip->extractTo($directory)) {
            fail("$what: the archive is not a readable zip file");
        }
        $zip->close();
    } else {
        $status = 0;
        // tar recognises gzip-compressed and plain (git archive) tar files by their content.
        passthru('tar -xf ' . escapeshellarg($file) . ' --no-same-owner -C ' . escapeshellarg($directory), $status);
        if ($status !== 0) {
            fail("$what: the archive is neither a zip file nor a tar file");
        }
    }
    return $directory;
}

/** The directory holding version.php: the archive's root, or its only top-level directory. */
function plugin_root(string $unpacked, string $what): string {
    if (is_file("$unpacked/version.php")) {
        return $unpacked;
    }
    $entries = array_values(array_diff(scandir($unpacked), ['.', '..']));
    if (count($entries) === 1 && is_file("$unpacked/{$entries[0]}/version.php")) {
        return "$unpacked/{$entries[0]}";
    }
    fail("$what: the archive has no version.php at its top or in its only top-level directory");
}

/** Plugin type => directory relative to the tree, from Moodle's map and the subplugin types it defines. */
function plugin_types(string $tree, string $webroot): array {
    $map = json_decode((string) @file_get_contents("$tree/lib/components.json"), true);
    if (!is_array($map) || !is_array($map['plugintypes'] ?? null)) {
        fail("$tree/lib/components.json is missing or unreadable: is this a Moodle tree?");
    }
    $types = $map['plugintypes'];
    foreach ($map['plugintypes'] as $directory) {
        foreach (glob("$tree/$directory/*/db/subplugins.json") ?: [] as $file) {
            $subplugins = json_decode((string) file_get_contents($file), true);
            foreach (($subplugins['plugintypes'] ?? []) as $type => $path) {
                // Relative to the web root, which is public/ since Moodle 5.1.
                $types[$type] = ltrim(substr("$webroot/$path", strlen($tree)), '/');
            }
        }
    }
    return $types;
}

/** Why $plugin (version.php values) does not support core $version/$branch, or null when it does. */
function unsupported(array $plugin, array $core): ?string {
    $release = "Moodle {$core['release']}, version {$core['version']}, branch {$core['branch']}";
    if (isset($plugin['requires']) && (float) $plugin['requires'] > (float) $core['version']) {
        return "it requires Moodle version {$plugin['requires']} or newer (\$plugin->requires), the image has $release";
    }
    if (isset($plugin['supported']) && is_array($plugin['supported']) && count($plugin['supported']) === 2) {
        [$low, $high] = array_map('intval', $plugin['supported']);
        if ((int) $core['branch'] < $low || (int) $core['branch'] > $high) {
            return "it supports Moodle branches $low to $high (\$plugin->supported), the image has $release";
        }
    }
    if (isset($plugin['incompatible']) && (int) $core['branch'] >= (int) $plugin['incompatible']) {
        return "it is incompatible with Moodle branch {$plugin['incompatible']} and newer "
            . "(\$plugin->incompatible), the image has $release";
    }
    return null;
}

function install_plugin(array $entry, string $tree, array $types, array $core): void {
    $component = $entry['component'];
    $what = "plugin $component";
    $fromgit = isset($entry['git'], $entry['commit']);
    if ($fromgit === isset($entry['url'])) {
        fail("$what needs either url, or git and commit");
    }
    $archive = $fromgit
        ? download($entry['git'], $entry['sha256'], $what, $entry['commit'])
        : download($entry['url'], $entry['sha256'], $what);
    $root = plugin_root(unpack_archive($archive, $what), $what);
    unlink($archive);
    $plugin = read_version_file("$root/version.php", 'plugin');
    $declared = $plugin['component'] ?? null;
    if ($declared !== $component) {
        fail("$what: its version.php declares \$plugin->component = " . var_export($declared, true)
            . ", not '$component'; list the plugin under the name its version.php gives");
    }
    if (($why = unsupported($plugin, $core)) !== null) {
        fail("$what does not support this Moodle release: $why");
    }
    [$type, $name] = explode('_', $component, 2);
    if (!isset($types[$type])) {
        fail("$what: Moodle has no plugin type \"$type\"; known types: " . implode(', ', array_keys($types)));
    }
    $target = "$tree/{$types[$type]}/$name";
    if (file_exists($target)) {
        fail("$what: $target already exists (a plugin of the release, or one listed twice)");
    }
    if (!is_dir(dirname($target))) {
        fail("$what: the directory of plugin type $type ({$types[$type]}) is missing from the release");
    }
    copy_tree($root, $target, $what);
    say("installed $component " . ($plugin['release'] ?? '') . " (version {$plugin['version']}) in {$types[$type]}/$name");
}

function install_language_pack(array $entry, string $langdir): void {
    $code = $entry['code'];
    $what = "language pack $code";
    $archive = download($entry['url'], $entry['sha256'], $what);
    $unpacked = unpack_archive($archive, $what);
    unlink($archive);
    if (!is_file("$unpacked/$code/langconfig.php")) {
        fail("$what: the archive has no $code/langconfig.php; is it Moodle's language pack for \"$code\"?");
    }
    if (file_exists("$langdir/$code")) {
        fail("$what is listed twice");
    }
    copy_tree("$unpacked/$code", "$langdir/$code", $what);
    say("installed language pack $code in $langdir/$code");
}

[$tree, $langdir] = array_slice($argv, 1, 2) + [null, null];
if ($tree === null || $langdir === null) {
    fail('usage: php install-plugins.php <moodle tree> <language pack directory>');
}
$plugins = list_from_env('MOODLE_PLUGINS', ['component', 'sha256']);
$packs = list_from_env('MOODLE_LANGUAGE_PACKS', ['code', 'url', 'sha256']);
if (!is_dir($langdir) && !mkdir($langdir, 0755, true)) {
    fail("could not create $langdir");
}
if ($plugins) {
    $webroot = is_dir("$tree/public") ? "$tree/public" : $tree;
    $core = read_version_file("$webroot/version.php", 'core');
    $types = plugin_types($tree, $webroot);
    foreach ($plugins as $entry) {
        install_plugin($entry, $tree, $types, $core);
    }
}
foreach ($packs as $entry) {
    install_language_pack($entry, $langdir);
}
say(count($plugins) . ' plugin(s) and ' . count($packs) . ' language pack(s) installed');
