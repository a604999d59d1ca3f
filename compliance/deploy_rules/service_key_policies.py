"""Every customer managed KMS key that an AWS service uses on its own lets that service use it."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    allows,
    as_list,
    literal,
    referenced_id,
    service_principals,
    statements,
)


@dataclass(frozen=True)
class KeyUse:
    resource_type: str
    key_property: str
    service: str
    """Service principal; ``{region}`` is the stack's region."""
    actions: tuple[str, ...]
    condition_key: str | None = None
    """A condition the encrypting statement must carry to be scoped the way AWS documents."""


KEY_USES = (
    KeyUse(
        "AWS::CloudTrail::Trail",
        "KMSKeyId",
        "cloudtrail.amazonaws.com",
        ("kms:GenerateDataKey", "kms:DescribeKey"),
        condition_key="kms:EncryptionContext:aws:cloudtrail:arn",
    ),
    KeyUse(
        "AWS::Logs::LogGroup",
        "KmsKeyId",
        "logs.{region}.amazonaws.com",
        (
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:DescribeKey",
        ),
        condition_key="kms:EncryptionContext:aws:logs:arn",
    ),
)
"""Resources whose service encrypts with the key itself, not with the caller's permissions; the first
action is the one that encrypts (and must carry ``condition_key``)."""

TOPIC_PUBLISHERS = {
    "AWS::CloudWatch::Alarm": ("AlarmActions", "cloudwatch.amazonaws.com"),
    "AWS::RDS::EventSubscription": ("SnsTopicArn", "events.rds.amazonaws.com"),
    "AWS::CodeStarNotifications::NotificationRule": ("Targets", "codestar-notifications.amazonaws.com"),
    "AWS::Events::Rule": ("Targets", "events.amazonaws.com"),
}
"""Resources that make a service publish to an SNS topic: (property naming the topic, publisher)."""

TOPIC_PUBLISH_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _key_statements(template: StackTemplate, key: Json) -> list[dict[str, Json]] | None:
    key_id = referenced_id(key)
    resource = template.resource(key_id) if key_id else None
    if resource is None or resource.get("Type") != "AWS::KMS::Key":
        return None
    return statements(resource["Properties"].get("KeyPolicy"))


def _missing(
    policy: list[dict[str, Json]], service: str, actions: Sequence[str], condition_key: str | None
) -> list[str]:
    granted = [statement for statement in policy if service in service_principals(statement)]
    missing = [action for action in actions if not any(allows(s, action) for s in granted)]
    if condition_key and not missing:
        encrypting = [s for s in granted if allows(s, actions[0])]
        if not any(condition_key in str(s.get("Condition", {})) for s in encrypting):
            missing.append(f"the {condition_key} condition")
    return missing


def _topic_publishers(template: StackTemplate) -> dict[str, set[str]]:
    """Topic logical ID -> services that publish to it, from the resources that name it."""
    publishers: dict[str, set[str]] = {}
    for resource_type, (property_name, service) in TOPIC_PUBLISHERS.items():
        for _, resource in template.resources(resource_type):
            for target in as_list(resource.get("Properties", {}).get(property_name, [])):
                arn = target.get("Arn", target.get("TargetAddress")) if isinstance(target, dict) else None
                topic = referenced_id(arn if arn is not None else target)
                if topic and (template.resource(topic) or {}).get("Type") == "AWS::SNS::Topic":
                    publishers.setdefault(topic, set()).add(service)
    return publishers


def _aws_principals(statement: dict[str, Json]) -> list[str]:
    principal = statement.get("Principal") or {}
    if not isinstance(principal, dict):
        return []
    return [literal(value) or "?" for value in as_list(principal.get("AWS", []))]


def _secret_key_problems(template: StackTemplate) -> Iterator[tuple[str, str]]:
    """A customer managed key of a secret must let its readers decrypt: through Secrets Manager
    (``kms:ViaService``, as AWS's own aws/secretsmanager key does) or by naming them."""
    for logical_id, secret in template.resources("AWS::SecretsManager::Secret"):
        key = secret.get("Properties", {}).get("KmsKeyId")
        if key is None:
            continue
        policy = _key_statements(template, key)
        if policy is None:
            yield logical_id, f"its KMS key {key} is not a key of this stack"
            continue
        through_secrets_manager = any(
            allows(statement, "kms:Decrypt") and "secretsmanager." in str(statement.get("Condition", {}))
            for statement in policy
        )
        named_readers = any(
            allows(statement, "kms:Decrypt")
            and _aws_principals(statement)
            and not any(principal.endswith(":root") for principal in _aws_principals(statement))
            and "Condition" not in statement
            for statement in policy
        )
        if not (through_secrets_manager or named_readers):
            yield (
                logical_id,
                f"the key policy of {referenced_id(key)} lets nobody decrypt the secret but through IAM",
            )


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A key policy that grants only the account root is enough for IAM principals, not for a service
    that encrypts on its own behalf: CloudTrail refuses to create the trail
    (InsufficientEncryptionPolicyException) unless the key policy allows cloudtrail.amazonaws.com
    kms:GenerateDataKey* scoped by kms:EncryptionContext:aws:cloudtrail:arn and kms:DescribeKey
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html);
    CloudWatch Logs refuses to associate the key with a log group unless logs.<region>.amazonaws.com
    may use it (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html);
    an encrypted SNS topic silently drops what CloudWatch alarms, RDS events or CodeStar notifications
    publish unless each publisher may kms:GenerateDataKey* and kms:Decrypt
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    A secret's key must let the secret's readers decrypt through Secrets Manager, or ECS cannot inject
    it and tasks stop at start (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
    A key in another template cannot be checked, so it is reported too."""
    for template in templates:
        for logical_id, problem in _secret_key_problems(template):
            yield Violation(template.path, logical_id, problem)
        uses: list[tuple[str, Json, str, Sequence[str], str | None]] = []
        for use in KEY_USES:
            for logical_id, resource in template.resources(use.resource_type):
                key = resource.get("Properties", {}).get(use.key_property)
                if key is not None:
                    service = use.service.format(region=template.region)
                    uses.append((logical_id, key, service, use.actions, use.condition_key))
        for topic, services in _topic_publishers(template).items():
            key = (template.resource(topic) or {}).get("Properties", {}).get("KmsMasterKeyId")
            if key is not None:
                uses += [(topic, key, service, TOPIC_PUBLISH_ACTIONS, None) for service in sorted(services)]
        for logical_id, key, service, actions, condition_key in uses:
            policy = _key_statements(template, key)
            if policy is None:
                yield Violation(template.path, logical_id, f"its KMS key {key} is not a key of this stack")
                continue
            missing = _missing(policy, service, actions, condition_key)
            if missing:
                yield Violation(
                    template.path,
                    logical_id,
                    f"the key policy of {referenced_id(key)} does not let {service} use it: "
                    f"missing {', '.join(missing)}",
                )


RULE = DeployRule("service-key-policies", "Keys used by AWS services grant those services", check)
