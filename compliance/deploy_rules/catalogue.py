"""Every deploy-time rule, in the order the report lists them."""

from collections.abc import Sequence

from compliance.deploy_rules import (
    autoscaled_desired_count,
    codebuild_node_runtime,
    cross_stack_references,
    custom_resource_teardown,
    lambda_runtimes,
    rds_engine_version,
    request_timeouts,
    retained_names,
    service_key_policies,
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
    lambda_runtimes.RULE,
)


def run_rules(templates: Sequence[StackTemplate]) -> dict[str, list[Violation]]:
    """Rule ID -> its violations (empty when the templates comply)."""
    return {rule.rule_id: rule.violations(templates) for rule in RULES}
