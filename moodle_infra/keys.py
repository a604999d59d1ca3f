"""Customer managed KMS keys, one per purpose and stack, created on first use.

Each stack that needs one gets its own key (a key cannot be shared across regions, and a per-stack key
keeps stacks free of new cross-stack dependencies). Every key rotates yearly. Keys are retained when
their stack is deleted: data encrypted with a deleted key is lost for good, so deleting one is a
deliberate manual step (``aws kms schedule-key-deletion``).
"""

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from compliance.acknowledgments import skip_checkov

LOGS_KEY_ID = "LogsKey"
SECRETS_KEY_ID = "SecretsKey"
SECRETS_KEY_REFERENCE_ID = "SecretsKeyReference"


def logs_key(scope: Construct) -> kms.IKey:
    """Encrypts the CloudWatch Logs log groups of ``scope``'s stack (NIST SC-28)."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(LOGS_KEY_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    key = kms.Key(
        stack,
        LOGS_KEY_ID,
        description=f"Encrypts the CloudWatch Logs log groups of {stack.stack_name}",
        enable_key_rotation=True,
    )
    # CloudWatch Logs uses the key on behalf of log groups of this account and region only.
    this_accounts_log_groups = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:*"
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccountAndRegion",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": this_accounts_log_groups}},
        )
    )
    return key


def secrets_key(scope: Construct) -> kms.IKey:
    """Encrypts the Secrets Manager secrets of ``scope``'s stack (NIST SC-28), instead of the AWS managed
    ``aws/secretsmanager`` key whose policy nobody can narrow or audit.

    Like that managed key, its policy lets principals of this account decrypt through Secrets Manager
    only, so who may read a secret is decided by the secret's own IAM grants (``secretsmanager:
    GetSecretValue``), exactly as before. The key is handed out as a reference by ARN: CDK's grants of
    a secret would otherwise add the reading roles (the ECS execution roles of the application stack) to
    this key's policy, a reference from the data stack back to the stack that depends on it.
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(SECRETS_KEY_REFERENCE_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    key = kms.Key(
        stack,
        SECRETS_KEY_ID,
        description=f"Encrypts the Secrets Manager secrets of {stack.stack_name}",
        enable_key_rotation=True,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="ReadSecretsThroughSecretsManagerInThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt", "kms:DescribeKey"],
            resources=["*"],
            conditions={
                "StringEquals": {
                    "kms:CallerAccount": stack.account,
                    "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com",
                }
            },
        )
    )
    skip_checkov(
        key,
        "CKV_AWS_33",
        "The wildcard principal is bound by kms:CallerAccount (this account) and kms:ViaService "
        "(Secrets Manager here), the policy of AWS's own aws/secretsmanager key; reading a secret still "
        "takes the secret's own IAM grant",
    )
    return kms.Key.from_key_arn(stack, SECRETS_KEY_REFERENCE_ID, key.key_arn)
