"""WAFv2 web ACL in front of CloudFront (so it lives in us-east-1, in the stage's edge stack)."""

from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from moodle_infra.keys import logs_key
from moodle_infra.physical_names import name_for_this_stack
from moodle_infra.retention import log_retention

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesPHPRuleSet",
)
"""Evaluated in this order, after the rate limit."""

COUNT_ONLY_RULES = {
    "AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),
}
"""Managed rules switched to count mode: SizeRestrictions_BODY blocks any body over 8 KB, which
would stop every course upload, assignment submission and backup restore."""

WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
"""WAF delivers logs only to log groups whose name starts with this."""

RATE_LIMIT_PER_5_MINUTES = 3000
"""Requests per client IP per five minutes. Campuses send many users from one NAT address, so this
only stops floods, not busy classrooms."""


class WebAcl(Construct):
    """Managed rule groups for common attacks, SQL injection and PHP, IP reputation, a rate limit;
    every request logged to CloudWatch Logs."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, log_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        rules = [self._rate_limit_rule()] + [
            self._managed_rule(group, priority) for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1)
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=rules,
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            # WAF requires the prefix; the stack ID suffix lets a re-created stack create it again
            # while the retained group of the previous one still holds its logs.
            log_group_name=name_for_this_stack(f"{WAF_LOG_GROUP_PREFIX}{name}", max_length=512),
            retention=log_retention(log_retention_days),
            encryption_key=logs_key(self),
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group.log_group_arn],
        )

    @staticmethod
    def _rate_limit_rule() -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=RATE_LIMIT_PER_5_MINUTES, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )

    @staticmethod
    def _managed_rule(group: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        overrides = [
            wafv2.CfnWebACL.RuleActionOverrideProperty(
                name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
            )
            for rule in COUNT_ONLY_RULES.get(group, ())
        ]
        return wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group, rule_action_overrides=overrides or None
                )
            ),
            visibility_config=_visibility(group),
        )


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )
