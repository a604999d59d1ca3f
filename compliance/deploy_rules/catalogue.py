"""Every deploy-time rule, in the order the report lists them."""

from collections.abc import Sequence

from compliance.deploy_rules import (
    autoscaled_desired_count,
    backup_plans,
    codebuild_node_runtime,
    cross_account_images,
    cross_stack_references,
    custom_resource_teardown,
    custom_resource_time_limits,
    default_quotas,
    ecs_efs_volumes,
    elasticache_replication,
    lambda_runtimes,
    log_delivery_buckets,
    pipeline_cross_account,
    rds_engine_version,
    rds_instance_settings,
    request_timeouts,
    retained_names,
    service_key_policies,
    unique_physical_names,
    vpc_origin,
    waf_web_acl,
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
)


def run_rules(templates: Sequence[StackTemplate]) -> dict[str, list[Violation]]:
    """Rule ID -> its violations (empty when the templates comply)."""
    return {rule.rule_id: rule.violations(templates) for rule in RULES}
