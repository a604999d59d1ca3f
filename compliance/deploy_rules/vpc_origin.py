"""A CloudFront VPC origin points at an internal load balancer that CloudFront can reach."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    as_list,
    referenced_id,
    resolve,
)

PREFIX_LIST_WEIGHT = 55
"""Rules the CloudFront origin-facing managed prefix list counts for against the security group quota
(its maximum number of entries)."""

RULES_PER_SECURITY_GROUP = 60


def _listener_ports(template: StackTemplate, balancer: str) -> set[int]:
    return {
        int(listener["Properties"]["Port"])
        for _, listener in template.resources("AWS::ElasticLoadBalancingV2::Listener")
        if referenced_id(listener.get("Properties", {}).get("LoadBalancerArn")) == balancer
    }


def _ingress(template: StackTemplate, group: str) -> list[dict[str, Json]]:
    rules = [
        rule.get("Properties", {})
        for _, rule in template.resources("AWS::EC2::SecurityGroupIngress")
        if referenced_id(rule.get("Properties", {}).get("GroupId")) == group
    ]
    inline = (template.resource(group) or {}).get("Properties", {}).get("SecurityGroupIngress", [])
    return rules + list(inline)


def _vpc_has_internet_gateway(
    templates: Sequence[StackTemplate], template: StackTemplate, subnet: Json
) -> bool:
    located = resolve(templates, template, subnet)
    if located is None:
        return False
    owner, subnet_id = located
    vpc = referenced_id((owner.resource(subnet_id) or {}).get("Properties", {}).get("VpcId"))
    return any(
        referenced_id(attachment.get("Properties", {}).get("VpcId")) == vpc
        and "InternetGatewayId" in attachment.get("Properties", {})
        for _, attachment in owner.resources("AWS::EC2::VPCGatewayAttachment")
    )


def _problems(
    templates: Sequence[StackTemplate], template: StackTemplate, origin: dict[str, Json]
) -> Iterator[str]:
    config = origin.get("Properties", {}).get("VpcOriginEndpointConfig", {})
    balancer_id = referenced_id(config.get("Arn"))
    balancer = template.resource(balancer_id or "")
    if balancer is None or balancer.get("Type") != "AWS::ElasticLoadBalancingV2::LoadBalancer":
        yield "its endpoint is not a load balancer of this stack"
        return
    properties = balancer.get("Properties", {})
    if properties.get("Scheme") != "internal":
        yield f"load balancer {balancer_id} is not internal"
    policy = config.get("OriginProtocolPolicy", "match-viewer")
    port = int(config.get("HTTPSPort", 443)) if policy == "https-only" else int(config.get("HTTPPort", 80))
    if port not in _listener_ports(template, balancer_id or ""):
        yield f"CloudFront connects on port {port} ({policy}), where {balancer_id} has no listener"
    for group in as_list(properties.get("SecurityGroups", [])):
        rules = _ingress(template, referenced_id(group) or "")
        admitting = [
            r
            for r in rules
            if "SourcePrefixListId" in r and r.get("FromPort", 0) <= port <= r.get("ToPort", -1)
        ]
        if not admitting:
            yield f"security group {referenced_id(group)} admits no prefix list (CloudFront) on port {port}"
        weight = sum(PREFIX_LIST_WEIGHT if "SourcePrefixListId" in r else 1 for r in rules)
        if weight > RULES_PER_SECURITY_GROUP:
            yield f"security group {referenced_id(group)} counts {weight} inbound rules, over the quota of 60"
    subnets = as_list(properties.get("Subnets", []))
    if not subnets or not all(_vpc_has_internet_gateway(templates, template, subnet) for subnet in subnets):
        yield f"the VPC of {balancer_id} has no internet gateway attached"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A VPC origin serves an internal ALB in private subnets of a VPC in the distribution's account,
    and CloudFront reaches it from its origin-facing addresses, which the origin's security group must
    admit (the com.amazonaws.global.cloudfront.origin-facing managed prefix list) on the port of the
    origin protocol policy; the VPC needs an internet gateway attached, though the load balancer stays
    private (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html).
    A managed prefix list counts as its maximum number of entries against the quota of 60 inbound rules
    per security group, so adding it to a busy group fails
    (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups,
    https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html)."""
    for template in templates:
        for logical_id, origin in template.resources("AWS::CloudFront::VpcOrigin"):
            for problem in _problems(templates, template, origin):
                yield Violation(template.path, logical_id, problem)


RULE = DeployRule(
    "vpc-origin", "CloudFront VPC origins reach an internal ALB through its security group", check
)
