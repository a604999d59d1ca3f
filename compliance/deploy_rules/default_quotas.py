"""What the stacks of one account create together stays within AWS's default quotas."""

from collections import Counter
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation

PER_REGION = {
    "AWS::EC2::VPC": (4, "VPCs (5 per Region, one of them the default VPC)"),
    "AWS::EC2::EIP": (5, "Elastic IP addresses (5 per Region)"),
    "AWS::EC2::InternetGateway": (4, "internet gateways (5 per Region, one of them the default VPC's)"),
}
"""Type -> (most the stacks may create in one account and Region, the quota it stems from)."""

TRAILS_PER_REGION = 5


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A fresh account allows 5 VPCs and 5 internet gateways per Region, the default VPC included
    (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html), 5 Elastic IP addresses
    per Region (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html) and
    5 trails per Region, where a multi-region trail counts in every Region
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html). When
    environments share an account, the stage that goes over fails on create with a LimitExceeded error,
    so the stacks of one account must fit together."""
    counts: Counter[tuple[str, str, str]] = Counter()
    first: dict[tuple[str, str, str], StackTemplate] = {}
    for template in templates:
        for resource_type in PER_REGION:
            for _ in template.resources(resource_type):
                key = (resource_type, template.account, template.region)
                counts[key] += 1
                first.setdefault(key, template)
        for _, trail in template.resources("AWS::CloudTrail::Trail"):
            multi_region = trail.get("Properties", {}).get("IsMultiRegionTrail") is True
            key = ("AWS::CloudTrail::Trail", template.account, "*" if multi_region else template.region)
            counts[key] += 1
            first.setdefault(key, template)
    for (resource_type, account, region), count in counts.items():
        limit, quota = PER_REGION.get(resource_type, (TRAILS_PER_REGION, "trails (5 per Region)"))
        if resource_type == "AWS::CloudTrail::Trail" and region != "*":
            count += counts[(resource_type, account, "*")]
        if count > limit:
            yield Violation(
                first[(resource_type, account, region)].path,
                "-",
                f"account {account} ({region}) gets {count} {quota}; more than the default quota allows",
            )


RULE = DeployRule("default-quotas", "What one account gets stays within AWS's default quotas", check)
