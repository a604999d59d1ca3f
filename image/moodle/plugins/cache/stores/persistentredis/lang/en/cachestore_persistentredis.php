<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

/**
 * Strings of cachestore_persistentredis.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['pluginname'] = 'Redis (persistent connections)';
$string['privacy:metadata'] = 'Stores cached data in Redis like the core Redis store; it keeps no personal data of its own.';
$string['task_ttl'] = 'Free up memory used by expired entries in persistent Redis caches';
