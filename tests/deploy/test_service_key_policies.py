"""Rule service-key-policies (issue 10 item 1): keys that AWS services use grant those services."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.service_key_policies import RULE
from tests.deploy.conftest import broken, find, resource_of_type

AUDIT = "MoodlePipeline/Prod/Audit"


def _key_of(body: dict, resource_type: str, key_property: str) -> dict:
    key_id = resource_of_type(body, resource_type)["Properties"][key_property]["Fn::GetAtt"][0]
    return body["Resources"][key_id]


def _without_service(service: str, resource_type: str, key_property: str):
    def breakage(body: dict) -> None:
        key = _key_of(body, resource_type, key_property)
        key["Properties"]["KeyPolicy"]["Statement"] = [
            statement
            for statement in key["Properties"]["KeyPolicy"]["Statement"]
            if service not in str(statement.get("Principal"))
        ]

    return breakage


def test_shipped_trail_key_lets_cloudtrail_encrypt_for_this_trail_only(
    shipped_templates: list[StackTemplate],
) -> None:
    body = find(shipped_templates, AUDIT).body
    statements = _key_of(body, "AWS::CloudTrail::Trail", "KMSKeyId")["Properties"]["KeyPolicy"]["Statement"]
    cloudtrail = [s for s in statements if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    encrypt = next(s for s in cloudtrail if s["Action"] == "kms:GenerateDataKey*")
    context = encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"]
    assert "trail/moodle-prod" in str(context)
    assert "trail/moodle-prod" in str(encrypt["Condition"]["StringEquals"]["aws:SourceArn"])
    assert any(s["Action"] == "kms:DescribeKey" for s in cloudtrail)


def test_catches_a_trail_key_that_grants_only_the_account(shipped_templates: list[StackTemplate]) -> None:
    """The defect of issue 10: the trail's key policy granted the account root alone."""
    audit = broken(
        find(shipped_templates, AUDIT),
        _without_service("cloudtrail", "AWS::CloudTrail::Trail", "KMSKeyId"),
    )
    trail = next(i for i, r in audit.resources("AWS::CloudTrail::Trail"))
    violations = RULE.violations([audit])
    assert [v.resource for v in violations] == [trail]
    assert "missing kms:GenerateDataKey, kms:DescribeKey" in violations[0].message


def test_catches_a_cloudtrail_grant_without_the_encryption_context(
    shipped_templates: list[StackTemplate],
) -> None:
    def unscoped(body: dict) -> None:
        key = _key_of(body, "AWS::CloudTrail::Trail", "KMSKeyId")
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            statement.pop("Condition", None)

    violations = RULE.violations([broken(find(shipped_templates, AUDIT), unscoped)])
    assert any("kms:EncryptionContext:aws:cloudtrail:arn" in v.message for v in violations)


def test_catches_a_log_group_key_without_cloudwatch_logs(shipped_templates: list[StackTemplate]) -> None:
    violations = RULE.violations(
        [broken(find(shipped_templates, AUDIT), _without_service("logs.", "AWS::Logs::LogGroup", "KmsKeyId"))]
    )
    assert violations
    assert all("logs.eu-west-1.amazonaws.com" in v.message for v in violations)


def test_catches_a_topic_key_that_alarms_cannot_use(shipped_templates: list[StackTemplate]) -> None:
    """A publisher of the topic (an RDS event subscription) whose service the topic's key does not admit."""

    def without_publishers(body: dict) -> None:
        for resource in body["Resources"].values():
            if resource["Type"] == "AWS::KMS::Key":
                statements = resource["Properties"]["KeyPolicy"]["Statement"]
                for statement in statements:
                    if "events.rds" in str(statement.get("Principal")):
                        statement["Principal"] = {"Service": "cloudwatch.amazonaws.com"}
        body["Resources"]["PlantedEvents"] = {
            "Type": "AWS::RDS::EventSubscription",
            "Properties": {
                "SnsTopicArn": {
                    "Ref": next(
                        logical_id
                        for logical_id, r in body["Resources"].items()
                        if r["Type"] == "AWS::SNS::Topic"
                    )
                }
            },
        }

    violations = RULE.violations([broken(find(shipped_templates, AUDIT), without_publishers)])
    assert [v.message for v in violations if "events.rds.amazonaws.com" in v.message]


def test_catches_a_key_it_cannot_see(shipped_templates: list[StackTemplate]) -> None:
    def imported_key(body: dict) -> None:
        resource_of_type(body, "AWS::CloudTrail::Trail")["Properties"]["KMSKeyId"] = {
            "Fn::ImportValue": "SomeoneElsesKey"
        }

    violations = RULE.violations([broken(find(shipped_templates, AUDIT), imported_key)])
    assert any("is not a key of this stack" in v.message for v in violations)


def test_catches_a_secrets_key_without_decryption_through_secrets_manager(
    shipped_templates: list[StackTemplate],
) -> None:
    """The database and Redis secrets are read by the application stack's execution roles, which CDK
    cannot add to a key in the data stack; the key admits decryption through Secrets Manager instead."""
    data = find(shipped_templates, "MoodlePipeline/Prod/Data")
    assert not RULE.violations([data])

    def root_only(body: dict) -> None:
        key = _key_of(body, "AWS::SecretsManager::Secret", "KmsKeyId")
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        statements[:] = [s for s in statements if "ViaService" not in str(s.get("Condition"))]

    violations = RULE.violations([broken(data, root_only)])
    secrets = [logical_id for logical_id, _ in data.resources("AWS::SecretsManager::Secret")]
    assert sorted(v.resource for v in violations) == sorted(secrets)
    assert all("lets nobody decrypt the secret but through IAM" in v.message for v in violations)
