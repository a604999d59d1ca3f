"""WAF: managed rule groups, upload-friendly body rule, rate limit, logging, us-east-1."""

from urllib.parse import urlsplit

import pytest

from moodle_infra.waf import COUNT_ONLY_RULES, MANAGED_RULE_GROUPS, SCOPED_BLOCKS
from smoke.checks import CHECKS, SQL_INJECTION_PROBES
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


def _overrides(template: TemplateOf, group: str) -> dict[str, dict]:
    rule = next(rule for rule in _web_acl(template)["Rules"] if rule["Name"] == group)
    overrides = rule["Statement"]["ManagedRuleGroupStatement"].get("RuleActionOverrides", [])
    return {override["Name"]: override["ActionToUse"] for override in overrides}


def test_rules_that_ordinary_moodle_use_trips_only_count(template: TemplateOf) -> None:
    """Issue 10 item 7: uploads, sign-on callbacks, file names and editor HTML (evidence in waf.py)."""
    assert _overrides(template, "AWSManagedRulesCommonRuleSet") == {
        "SizeRestrictions_BODY": {"Count": {}},
        "SizeRestrictions_QUERYSTRING": {"Count": {}},
        "SizeRestrictions_URIPATH": {"Count": {}},
        "RestrictedExtensions_URIPATH": {"Count": {}},
        "CrossSiteScripting_BODY": {"Count": {}},
    }
    assert _overrides(template, "AWSManagedRulesSQLiRuleSet") == {
        "SQLi_BODY": {"Count": {}},
        "SQLiExtendedPatterns_BODY": {"Count": {}},
    }
    for group in ("AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesPHPRuleSet"):
        assert _overrides(template, group) == {}, "everything else in the other groups blocks"


def _scoped(template: TemplateOf, name: str) -> dict:
    return next(rule for rule in _web_acl(template)["Rules"] if rule["Name"] == name)


def _prefixes(statement: dict) -> list[str]:
    if "ByteMatchStatement" in statement:
        match = statement["ByteMatchStatement"]
        assert (match["FieldToMatch"], match["PositionalConstraint"]) == ({"UriPath": {}}, "STARTS_WITH")
        assert match["TextTransformations"] == [{"Priority": 0, "Type": "NORMALIZE_PATH"}], "no ../ escapes"
        return [match["SearchString"]]
    return [prefix for inner in statement["OrStatement"]["Statements"] for prefix in _prefixes(inner)]


@pytest.mark.parametrize("block", SCOPED_BLOCKS, ids=lambda block: block.name)
def test_counted_rules_still_block_where_moodle_never_sends_that(template: TemplateOf, block) -> None:
    rule = _scoped(template, block.name)
    assert rule["Action"] == {"Block": {}}
    labelled, where = rule["Statement"]["AndStatement"]["Statements"]
    matches = labelled["OrStatement"]["Statements"] if "OrStatement" in labelled else [labelled]
    assert matches == [{"LabelMatchStatement": {"Scope": "LABEL", "Key": label}} for label in block.labels]
    counted = {rule.lower() for rules in COUNT_ONLY_RULES.values() for rule in rules}
    assert {label.rsplit(":", 1)[1].lower() for label in block.labels} <= counted, "only counted rules"
    if block.only_under:
        assert _prefixes(where) == list(block.path_prefixes)
    else:
        assert _prefixes(where["NotStatement"]["Statement"]) == list(block.path_prefixes)


def test_scoped_blocks_run_after_the_groups_that_label(template: TemplateOf) -> None:
    """A label is visible only to rules evaluated after the rule that adds it."""
    rules = {rule["Name"]: rule["Priority"] for rule in _web_acl(template)["Rules"]}
    last_group = max(rules[group] for group in MANAGED_RULE_GROUPS)
    assert all(rules[block.name] > last_group for block in SCOPED_BLOCKS)


def test_rate_limit_blocks_floods_first(template: TemplateOf) -> None:
    rules = sorted(_web_acl(template)["Rules"], key=lambda rule: rule["Priority"])
    assert rules[0]["Action"] == {"Block": {}}
    assert rules[0]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    assert len(rules) == len(MANAGED_RULE_GROUPS) + len(SCOPED_BLOCKS) + 1
    assert len({rule["Priority"] for rule in rules}) == len(rules)


def test_waf_requests_are_logged(template: TemplateOf) -> None:
    edge = template("prod", "EdgeSecurity")
    edge.resource_count_is("AWS::WAFv2::LoggingConfiguration", 1)
    (log_group,) = edge.find_resources("AWS::Logs::LogGroup").values()
    prefix, suffix = log_group["Properties"]["LogGroupName"]["Fn::Join"][1]
    assert prefix == "aws-waf-logs-moodle-prod-", "WAF only logs to groups named aws-waf-logs-*"
    assert "AWS::StackId" in str(suffix), "a re-created stack must not collide with the retained group"


def test_sql_injection_in_query_strings_still_blocks_and_the_smoke_program_probes_it(
    template: TemplateOf,
) -> None:
    """Only the body rules count; the smoke check waf-blocks-sqli sends its probes in query strings, which
    SQLi_QUERYARGUMENTS blocks, and fails the deployment if one answers anything but 403."""
    assert set(_overrides(template, "AWSManagedRulesSQLiRuleSet")) == {
        "SQLi_BODY",
        "SQLiExtendedPatterns_BODY",
    }
    assert all(urlsplit(probe).query for probe in SQL_INJECTION_PROBES)
    assert "waf-blocks-sqli" in {check.name for check in CHECKS}
