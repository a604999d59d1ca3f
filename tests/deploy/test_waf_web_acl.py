"""Rule waf-web-acl (issue 10 item 7 and WAF logging): region, capacity, label order, log group name."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.waf_web_acl import RULE, capacity
from tests.deploy.conftest import broken, find, resource_of_type

EDGE = "MoodlePipeline/Prod/EdgeSecurity"


def _acl(body: dict) -> dict:
    return resource_of_type(body, "AWS::WAFv2::WebACL")["Properties"]


def test_shipped_web_acl_fits_the_included_capacity(shipped_templates: list[StackTemplate]) -> None:
    rules = _acl(find(shipped_templates, EDGE).body)["Rules"]
    total = sum(capacity(rule["Statement"]) for rule in rules)
    assert 1225 < total <= 1500, "five managed groups (1,225 WCUs), the rate limit and the scoped blocks"


def test_catches_a_label_read_before_it_is_added(shipped_templates: list[StackTemplate]) -> None:
    def early(body: dict) -> None:
        for rule in _acl(body)["Rules"]:
            if rule["Name"] == "CrossSiteScriptingBodyOnSignIn":
                rule["Priority"] = 1  # before AWSManagedRulesCommonRuleSet

    violations = RULE.violations([broken(find(shipped_templates, EDGE), early)])
    assert len(violations) == 1
    assert "reads awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body before" in violations[0].message


def test_catches_the_wrong_region_too_many_groups_and_a_bad_log_group(
    shipped_templates: list[StackTemplate],
) -> None:
    def oversized(body: dict) -> None:
        rules = _acl(body)["Rules"]
        for extra in ("AWSManagedRulesLinuxRuleSet", "AWSManagedRulesAdminProtectionRuleSet"):
            rules.append(
                {
                    "Name": extra,
                    "Priority": 100 + len(rules),
                    "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": extra}},
                }
            )
        resource_of_type(body, "AWS::Logs::LogGroup")["Properties"]["LogGroupName"] = "moodle-waf"

    edge = broken(find(shipped_templates, EDGE), oversized)
    moved = StackTemplate(edge.path, edge.account, "eu-west-1", edge.body)
    messages = [violation.message for violation in RULE.violations([moved])]
    assert any("must be created in us-east-1" in message for message in messages)
    assert any("more than the 1500 a web ACL includes" in message for message in messages)
    assert any("does not start with aws-waf-logs-" in message for message in messages)
