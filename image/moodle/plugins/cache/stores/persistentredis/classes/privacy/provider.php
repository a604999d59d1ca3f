<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

namespace cachestore_persistentredis\privacy;

/**
 * The store keeps what Moodle caches, like cachestore_redis; it has no personal data of its own.
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements \core_privacy\local\metadata\null_provider {
    #[\Override]
    public static function get_reason(): string {
        return 'privacy:metadata';
    }
}
