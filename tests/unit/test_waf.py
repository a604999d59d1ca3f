"""WAF: managed rule groups, upload-friendly body rule, rate limit, logging, us-east-1."""

import pytest

from moodle_infra.waf import MANAGED_RULE_GROUPS
from tests.conftest import TemplateOf


def _web_acl(template: TemplateOf, environment: str = "prod") -> dict:
    acls = template(environment, "EdgeSecurity").find_resources("AWS::WAFv2::WebACL")
    assert len(acls) == 1
    return next(iter(acls.values()))["Properties"]


def test_web_acl_is_for_cloudfront_in_us_east_1(stages: dict, template: TemplateOf) -> None:
    assert _web_acl(template)["Scope"] == "CLOUDFRONT"
    assert stages["prod"].edge_security.region == "us-east-1"
    assert stages["prod"].application.region == "eu-west-1"


@pytest.mark.parametrize(
    "group",
    [
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesPHPRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ],
)
def test_managed_rule_group_is_enforced(template: TemplateOf, group: str) -> None:
    rules = {rule["Name"]: rule for rule in _web_acl(template)["Rules"]}
    statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
    assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
    assert rules[group]["OverrideAction"] == {"None": {}}, "a group in count mode would block nothing"


def test_body_size_rule_counts_instead_of_blocking_uploads(template: TemplateOf) -> None:
    common = next(
        rule for rule in _web_acl(template)["Rules"] if rule["Name"] == "AWSManagedRulesCommonRuleSet"
    )
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"ActionToUse": {"Count": {}}, "Name": "SizeRestrictions_BODY"}]


def test_rate_limit_blocks_floods_first(template: TemplateOf) -> None:
    rules = sorted(_web_acl(template)["Rules"], key=lambda rule: rule["Priority"])
    assert rules[0]["Action"] == {"Block": {}}
    assert rules[0]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert len(rules) == len(MANAGED_RULE_GROUPS) + 1
    assert len({rule["Priority"] for rule in rules}) == len(rules)


def test_waf_requests_are_logged(template: TemplateOf) -> None:
    edge = template("prod", "EdgeSecurity")
    edge.resource_count_is("AWS::WAFv2::LoggingConfiguration", 1)
    (log_group,) = edge.find_resources("AWS::Logs::LogGroup").values()
    prefix, suffix = log_group["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert prefix == "aws-waf-logs-moodle-prod-", "WAF only logs to groups named aws-waf-logs-*"
    assert "AWS::StackId" in str(suffix), "a re-created stack must not collide with the retained group"
