"""Rule synthetics-canaries: the browser canary's role, artifacts location and schedule."""

from typing import Any

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.synthetics_canaries import RULE
from tests.deploy.conftest import broken, find, resource_of_type

APPLICATION = "MoodlePipeline/Prod/Application"


def test_shipped_canaries_comply(shipped_templates: list[StackTemplate]) -> None:
    assert sum(1 for t in shipped_templates for _ in t.resources("AWS::Synthetics::Canary")) == 4
    assert not RULE.violations(shipped_templates)


def _messages(shipped_templates: list[StackTemplate], breakage: Any) -> list[str]:
    return [v.message for v in RULE.violations([broken(find(shipped_templates, APPLICATION), breakage)])]


def test_catches_a_role_that_may_not_write_artifacts_or_metrics(
    shipped_templates: list[StackTemplate],
) -> None:
    def without_s3_and_metrics(body: dict) -> None:
        canary = resource_of_type(body, "AWS::Synthetics::Canary")
        role = canary["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        for policy in body["Resources"].values():
            if policy["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    actions = (
                        statement["Action"]
                        if isinstance(statement["Action"], list)
                        else [statement["Action"]]
                    )
                    statement["Action"] = [
                        a for a in actions if a not in ("s3:PutObject", "cloudwatch:PutMetricData")
                    ]

    assert _messages(shipped_templates, without_s3_and_metrics) == [
        "its execution role may not s3:PutObject, cloudwatch:PutMetricData"
    ]


def test_catches_a_run_longer_than_the_interval(shipped_templates: list[StackTemplate]) -> None:
    def slow(body: dict) -> None:
        resource_of_type(body, "AWS::Synthetics::Canary")["Properties"]["RunConfig"]["TimeoutInSeconds"] = 301

    assert _messages(shipped_templates, slow) == ["a run may take 301 s, longer than the 300 s between runs"]


def test_catches_a_bucket_name_with_a_period_and_a_location_without_s3(
    shipped_templates: list[StackTemplate],
) -> None:
    def dotted(body: dict) -> None:
        canary = resource_of_type(body, "AWS::Synthetics::Canary")
        parts = canary["Properties"]["ArtifactS3Location"]["Fn::Join"][1]
        body["Resources"][parts[1]["Ref"]]["Properties"]["BucketName"] = "moodle.canary"
        parts[0] = "https://"

    assert _messages(shipped_templates, dotted) == [
        "ArtifactS3Location must start with s3://, got 'https:///runs'",
        "artifacts bucket 'moodle.canary': Synthetics refuses bucket names with a period",
    ]


def test_catches_a_canary_in_a_vpc_without_network_interface_permissions(
    shipped_templates: list[StackTemplate],
) -> None:
    def in_vpc(body: dict) -> None:
        resource_of_type(body, "AWS::Synthetics::Canary")["Properties"]["VPCConfig"] = {
            "SubnetIds": ["subnet-1"]
        }

    assert _messages(shipped_templates, in_vpc) == [
        "it runs in a VPC, but its execution role may not ec2:CreateNetworkInterface"
    ]
