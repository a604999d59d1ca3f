"""Rule log-delivery-buckets: the access log bucket takes ALB, CloudFront and S3 deliveries."""

import json

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.log_delivery_buckets import RULE
from tests.deploy.conftest import broken, find

AUDIT = "MoodlePipeline/Prod/Audit"


def _access_logs(body: dict) -> dict:
    return next(
        r
        for i, r in body["Resources"].items()
        if i.startswith("AccessLogsBucket") and r["Type"] == "AWS::S3::Bucket"
    )


def test_catches_a_kms_encrypted_acl_less_access_log_bucket(shipped_templates: list[StackTemplate]) -> None:
    """What the NIST S3 KMS rule would have asked for, and S3's default for new buckets: both stop log
    delivery, the first for the ALB and S3, the second for CloudFront."""

    def hardened(body: dict) -> None:
        bucket = _access_logs(body)["Properties"]
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ] = {"SSEAlgorithm": "aws:kms"}
        del bucket["OwnershipControls"]

    audit = broken(find(shipped_templates, AUDIT), hardened)
    others = [t for t in shipped_templates if t.path != AUDIT]
    violations = RULE.violations([*others, audit])
    messages = {(v.stack, v.message.split(" (")[0]) for v in violations}
    assert (
        "MoodlePipeline/Prod/Application",
        "access log bucket AccessLogsBucketCD784A59 is not SSE-S3 encrypted",
    ) in messages
    assert (
        "MoodlePipeline/Prod/Application",
        "log bucket AccessLogsBucketCD784A59 has ACLs disabled",
    ) in messages
    assert (
        f"{AUDIT} (broken)",
        "server access log bucket AccessLogsBucketCD784A59 is not SSE-S3 encrypted",
    ) in messages


def test_catches_a_bucket_policy_without_log_delivery(shipped_templates: list[StackTemplate]) -> None:
    def no_delivery(body: dict) -> None:
        for resource in body["Resources"].values():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                statements[:] = [s for s in statements if s["Effect"] == "Deny"]

    audit = broken(find(shipped_templates, AUDIT), no_delivery)
    others = [t for t in shipped_templates if t.path != AUDIT]
    messages = [v.message for v in RULE.violations([*others, audit])]
    assert "the policy of AccessLogsBucketCD784A59 does not let ELB log delivery put objects" in messages
    assert any("lets S3 log delivery put objects" in m for m in messages)


def test_catches_a_region_without_cloudfront_log_delivery(shipped_templates: list[StackTemplate]) -> None:
    audit = find(shipped_templates, AUDIT)
    moved = [
        StackTemplate(
            t.path,
            t.account,
            "eu-south-1",
            json.loads(json.dumps(t.body).replace('"eu-west-1"', '"eu-south-1"')),
            t.directory,
            t.stack_name,
            t.depends_on,
        )
        for t in shipped_templates
        if t.path.startswith("MoodlePipeline/Prod/") and not t.path.endswith("EdgeSecurity")
    ]
    assert audit.path in {t.path for t in moved}
    messages = [v.message for v in RULE.violations(moved)]
    assert (
        "log bucket AccessLogsBucketCD784A59 is in eu-south-1, where CloudFront delivers no standard logs"
        in messages
    )
