"""Every deploy-time rule, in the order the report lists them."""

from collections.abc import Sequence

from compliance.deploy_rules import (
    autoscaled_desired_count,
    backup_plans,
    codebuild_node_runtime,
    connection_prefixes,
    cross_account_images,
    cross_stack_references,
    custom_resource_teardown,
    custom_resource_time_limits,
    default_quotas,
    ecs_efs_volumes,
    elasticache_replication,
    event_schedules,
    image_scanning,
    lambda_runtimes,
    log_delivery_buckets,
    npm_pins,
    pipeline_cross_account,
    rds_engine_version,
    rds_instance_settings,
    request_timeouts,
    retained_names,
    scheduled_actions,
    service_key_policies,
    stage_conditions,
    synthetics_canaries,
    unique_physical_names,
    vpc_origin,
    waf_web_acl,
    weak_references,
)
from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation

RULES: tuple[DeployRule, ...] = (
    service_key_policies.RULE,
    autoscaled_desired_count.RULE,
    retained_names.RULE,
    codebuild_node_runtime.RULE,
    rds_engine_version.RULE,
    request_timeouts.RULE,
    waf_web_acl.RULE,
    cross_stack_references.RULE,
    custom_resource_teardown.RULE,
    custom_resource_time_limits.RULE,
    lambda_runtimes.RULE,
    synthetics_canaries.RULE,
    vpc_origin.RULE,
    ecs_efs_volumes.RULE,
    elasticache_replication.RULE,
    rds_instance_settings.RULE,
    log_delivery_buckets.RULE,
    cross_account_images.RULE,
    pipeline_cross_account.RULE,
    backup_plans.RULE,
    unique_physical_names.RULE,
    default_quotas.RULE,
    connection_prefixes.RULE,
    npm_pins.RULE,
    weak_references.RULE,
    image_scanning.RULE,
    scheduled_actions.RULE,
    event_schedules.RULE,
    stage_conditions.RULE,
)


def run_rules(templates: Sequence[StackTemplate]) -> dict[str, list[Violation]]:
    """Rule ID -> its violations (empty when the templates comply)."""
    return {rule.rule_id: rule.violations(templates) for rule in RULES}
