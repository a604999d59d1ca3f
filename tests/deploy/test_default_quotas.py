"""Rule default-quotas: the stacks of one account fit its default VPC, EIP and trail quotas."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.default_quotas import RULE
from tests.deploy.conftest import broken, find


def _one_account(templates: list[StackTemplate]) -> list[StackTemplate]:
    return [StackTemplate(t.path, "999999999999", t.region, t.body) for t in templates]


def test_all_environments_in_one_account_fit_exactly(shipped_templates: list[StackTemplate]) -> None:
    """dev, staging, prod and the sandbox in one account: 4 VPCs, 5 NAT gateway addresses, 4 trails."""
    together = _one_account(shipped_templates)
    eips = sum(1 for t in together for _ in t.resources("AWS::EC2::EIP"))
    vpcs = sum(1 for t in together for _ in t.resources("AWS::EC2::VPC"))
    assert (vpcs, eips) == (4, 5)
    assert not RULE.violations(together)


def test_catches_one_more_nat_gateway_address_and_one_more_trail(
    shipped_templates: list[StackTemplate],
) -> None:
    def one_more(body: dict) -> None:
        body["Resources"]["PlantedEip"] = {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}}
        body["Resources"]["PlantedTrail"] = {
            "Type": "AWS::CloudTrail::Trail",
            "Properties": {"IsMultiRegionTrail": True, "IsLogging": True, "S3BucketName": "b"},
        }
        body["Resources"]["PlantedTrail2"] = body["Resources"]["PlantedTrail"]

    extra = broken(find(shipped_templates, "MoodlePipeline/Dev/Data"), one_more)
    messages = [v.message for v in RULE.violations(_one_account([*shipped_templates, extra]))]
    assert any("(eu-west-1) gets 6 Elastic IP addresses (5 per Region)" in m for m in messages)
    assert any("gets 6 trails (5 per Region)" in m for m in messages)
