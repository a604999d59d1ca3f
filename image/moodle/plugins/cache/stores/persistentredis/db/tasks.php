<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

/**
 * Scheduled tasks of cachestore_persistentredis.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$tasks = [
    [
        'classname' => '\cachestore_persistentredis\task\ttl',
        'blocking' => 0,
        'minute' => 'R',
        'hour' => '*',
        'day' => '*',
        'month' => '*',
        'dayofweek' => '*',
        'disabled' => 0,
    ],
];
