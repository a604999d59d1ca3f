<?php
// This plugin is part of the Moodle container image (docs/IMAGE.md), not of Moodle itself.
// It is free software under the GNU GPL v3 or later, like Moodle.

namespace cachestore_persistentredis\task;

/**
 * Deletes expired entries of TTL caches in this plugin's stores, as cachestore_redis's task does for its own
 * (which skips stores of other plugins).
 *
 * @package    cachestore_persistentredis
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class ttl extends \core\task\scheduled_task {
    #[\Override]
    public function get_name(): string {
        return get_string('task_ttl', 'cachestore_persistentredis');
    }

    #[\Override]
    public function execute(): void {
        $factory = \cache_factory::instance();
        $config = $factory->create_config_instance();
        foreach ($config->get_all_stores() as $storename => $store) {
            if ($store['plugin'] !== 'persistentredis') {
                continue;
            }
            foreach ($config->get_definitions_by_store($storename) as $definition) {
                if (empty($definition['ttl']) || !empty($definition['requireidentifiers'])) {
                    continue;
                }
                \cache::make($definition['component'], $definition['area']);
                $instance = $factory->create_definition($definition['component'], $definition['area']);
                foreach ($factory->get_store_instances_in_use($instance) as $storeinstance) {
                    if ($storeinstance instanceof \cachestore_persistentredis) {
                        $result = $storeinstance->expire_ttl();
                        mtrace("{$definition['component']}/{$definition['area']}: deleted {$result['keys']} key(s)");
                    }
                }
            }
        }
    }
}
