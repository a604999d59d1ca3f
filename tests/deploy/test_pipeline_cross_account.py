"""Rule pipeline-cross-account: deploy roles of dev, staging and prod can read their artifacts, in
eu-west-1 and in us-east-1 (the edge stacks)."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.pipeline_cross_account import RULE
from tests.deploy.conftest import broken, find


def test_shipped_pipeline_passes(shipped_templates: list[StackTemplate]) -> None:
    assert not RULE.violations(shipped_templates)


def test_catches_a_key_and_a_bucket_that_do_not_admit_the_deploy_roles(
    shipped_templates: list[StackTemplate],
) -> None:
    def closed(body: dict) -> None:
        for resource in body["Resources"].values():
            if resource["Type"] == "AWS::KMS::Key":
                resource["Properties"]["KeyPolicy"]["Statement"] = resource["Properties"]["KeyPolicy"][
                    "Statement"
                ][:1]
            if resource["Type"] == "AWS::S3::BucketPolicy":
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                statements[:] = [s for s in statements if s["Effect"] == "Deny"]

    support = next(t for t in shipped_templates if t.path.startswith("cross-region-stack-"))
    others = [t for t in shipped_templates if t is not support]
    messages = [v.message for v in RULE.violations([*others, broken(support, closed)])]
    assert len(messages) == 6, "key and bucket, for each of three accounts, in us-east-1"
    assert all("us-east-1 artifact" in m for m in messages)


def test_catches_a_region_without_artifact_store_and_the_aws_managed_key(
    shipped_templates: list[StackTemplate],
) -> None:
    def single_region(body: dict) -> None:
        for resource in body["Resources"].values():
            if resource["Type"] == "AWS::CodePipeline::Pipeline":
                stores = resource["Properties"]["ArtifactStores"]
                stores[:] = [s for s in stores if s["Region"] != "us-east-1"]
                stores[0]["ArtifactStore"]["EncryptionKey"] = {"Id": "alias/aws/s3", "Type": "KMS"}

    messages = [
        v.message for v in RULE.violations([broken(find(shipped_templates, "MoodlePipeline"), single_region)])
    ]
    assert any("EdgeSecurity.Deploy runs in us-east-1, which has no artifact store" in m for m in messages)
    assert any("the eu-west-1 artifact store has no customer managed key" in m for m in messages)
