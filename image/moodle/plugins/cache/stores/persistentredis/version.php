<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

/**
 * Redis for the image's sessions and application cache: persistent connections per php-fpm worker,
 * bounded timeouts and a clean 503 while Redis does not answer.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'cachestore_persistentredis';
$plugin->version = 2026112900;
// Moodle 5.0: the oldest release the image builds (phpredis named arguments, the session handler's layout).
$plugin->requires = 2025041400;
$plugin->maturity = MATURITY_STABLE;
$plugin->release = '1.0';
$plugin->dependencies = ['cachestore_redis' => 2025041400];
