"""A CloudFront web ACL is created in us-east-1, fits its capacity, logs where WAF can deliver, and reads
labels only after the rules that add them."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation, referenced_id

CLOUDFRONT_REGION = "us-east-1"

MANAGED_GROUP_CAPACITY = {
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesSQLiRuleSet": 200,
    "AWSManagedRulesPHPRuleSet": 100,
    "AWSManagedRulesLinuxRuleSet": 200,
    "AWSManagedRulesAdminProtectionRuleSet": 100,
}
"""WCUs of AWS managed rule groups, from each group's documentation page."""

INCLUDED_CAPACITY = 1500
"""WCUs a web ACL uses at the base price; AWS refuses more than 5,000."""

LABEL_PREFIXES = {
    "awswaf:managed:aws:core-rule-set:": "AWSManagedRulesCommonRuleSet",
    "awswaf:managed:aws:sql-database:": "AWSManagedRulesSQLiRuleSet",
    "awswaf:managed:aws:known-bad-inputs:": "AWSManagedRulesKnownBadInputsRuleSet",
    "awswaf:managed:aws:php-app:": "AWSManagedRulesPHPRuleSet",
    "awswaf:managed:aws:amazon-ip-list:": "AWSManagedRulesAmazonIpReputationList",
}
"""The namespace of the labels each managed group adds."""

LOG_GROUP_PREFIX = "aws-waf-logs-"


def capacity(statement: Json) -> int:
    """Estimated WCUs of one rule statement (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html)."""
    if not isinstance(statement, dict):
        return 0
    if "ManagedRuleGroupStatement" in statement:
        return MANAGED_GROUP_CAPACITY.get(statement["ManagedRuleGroupStatement"]["Name"], 1500)
    if "RateBasedStatement" in statement:
        return 2 + capacity(statement["RateBasedStatement"].get("ScopeDownStatement"))
    if "LabelMatchStatement" in statement:
        return 1
    if "ByteMatchStatement" in statement:
        transformations = statement["ByteMatchStatement"].get("TextTransformations", [])
        return 2 + 10 * sum(1 for t in transformations if t.get("Type") != "NONE")
    for logical in ("AndStatement", "OrStatement"):
        if logical in statement:
            return sum(capacity(inner) for inner in statement[logical]["Statements"])
    if "NotStatement" in statement:
        return capacity(statement["NotStatement"]["Statement"])
    # Anything else: a generous guess, so an unknown statement cannot hide a capacity problem.
    return 50


def labels_read(statement: Json) -> list[str]:
    if isinstance(statement, dict):
        if "LabelMatchStatement" in statement:
            return [str(statement["LabelMatchStatement"]["Key"])]
        return [label for value in statement.values() for label in labels_read(value)]
    if isinstance(statement, list):
        return [label for value in statement for label in labels_read(value)]
    return []


def _acl_problems(template: StackTemplate, acl: dict[str, Json]) -> Iterator[str]:
    properties = acl.get("Properties", {})
    if properties.get("Scope") == "CLOUDFRONT" and template.region != CLOUDFRONT_REGION:
        yield f"a CLOUDFRONT web ACL must be created in {CLOUDFRONT_REGION}, not {template.region}"
    rules = properties.get("Rules", [])
    total = sum(capacity(rule.get("Statement")) for rule in rules)
    if total > INCLUDED_CAPACITY:
        yield f"uses about {total} WCUs, more than the {INCLUDED_CAPACITY} a web ACL includes"
    priorities = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]: rule["Priority"]
        for rule in rules
        if "ManagedRuleGroupStatement" in rule.get("Statement", {})
    }
    for rule in rules:
        for label in labels_read(rule.get("Statement")):
            group = next((g for prefix, g in LABEL_PREFIXES.items() if label.startswith(prefix)), None)
            if group is None:
                continue
            if group not in priorities:
                yield f"rule {rule['Name']} reads {label}, but {group} is not in the web ACL"
            elif priorities[group] >= rule["Priority"]:
                name, priority = rule["Name"], rule["Priority"]
                yield f"rule {name} (priority {priority}) reads {label} before {group} adds it"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A web ACL for CloudFront (Scope CLOUDFRONT) can only be created in us-east-1
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html#cfn-wafv2-webacl-scope).
    Its rules' capacity adds up, managed groups at their published WCUs; above 1,500 WCUs every request
    costs more and above 5,000 AWS refuses the web ACL
    (https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html). A rule sees a
    label only if the rule that adds it ran earlier, at a lower priority
    (https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-label-match.html), so a
    label-match rule placed before its managed group silently never matches. WAF delivers logs to
    CloudWatch Logs only into log groups named aws-waf-logs-...
    (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html)."""
    for template in templates:
        for logical_id, acl in template.resources("AWS::WAFv2::WebACL"):
            for problem in _acl_problems(template, acl):
                yield Violation(template.path, logical_id, problem)
        for logical_id, logging in template.resources("AWS::WAFv2::LoggingConfiguration"):
            for destination in logging.get("Properties", {}).get("LogDestinationConfigs", []):
                group_id = referenced_id(destination)
                group = template.resource(group_id) if group_id else None
                if not group or group.get("Type") != "AWS::Logs::LogGroup":
                    continue
                name = group.get("Properties", {}).get("LogGroupName")
                first = name["Fn::Join"][1][0] if isinstance(name, dict) and "Fn::Join" in name else name
                if not (isinstance(first, str) and first.startswith(LOG_GROUP_PREFIX)):
                    yield Violation(
                        template.path,
                        logical_id,
                        f"logs to {group_id}, whose name does not start with {LOG_GROUP_PREFIX}",
                    )


RULE = DeployRule(
    "waf-web-acl", "CloudFront web ACLs: us-east-1, capacity, label order, log group names", check
)
