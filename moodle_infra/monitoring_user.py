"""The password of the browser journey's Moodle account, generated once and kept in Secrets Manager."""

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra.config import CanaryConfig
from moodle_infra.keys import secrets_key


class MonitoringUser(Construct):
    """install-or-upgrade creates the user with this password (image/bin/monitoring-user.php) and the
    canary logs in with it; a resource policy keeps every other principal from reading it."""

    def __init__(self, scope: Construct, construct_id: str, *, config: CanaryConfig) -> None:
        super().__init__(scope, construct_id)
        self.password = secretsmanager.Secret(
            self,
            "Password",
            description="Password of the Moodle account the browser journey (canary) logs in with",
            encryption_key=secrets_key(self),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_characters="\"'\\`$"
            ),
        )
        self.environment = {
            "MOODLE_MONITOR_USER": config.username,
            "MOODLE_MONITOR_COURSE": config.course_short_name,
        }
        self.install_secrets = {"MOODLE_MONITOR_PASSWORD": ecs.Secret.from_secrets_manager(self.password)}
        for rule in ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled"):
            acknowledge(
                self.password,
                rule,
                "install-or-upgrade sets the user's password from this secret on every deploy; a rotation "
                "outside a deploy would lock the canary out until the next one",
            )

    def readable_only_by(self, *roles: iam.IRole) -> None:
        """Deny GetSecretValue to every principal but ``roles`` (the canary's, install-or-upgrade's
        execution role): an IAM policy granting secretsmanager:* elsewhere in the account cannot read it."""
        self.password.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyTheCanaryAndTheInstallerRead",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["secretsmanager:GetSecretValue"],
                resources=["*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": [role.role_arn for role in roles]}},
            )
        )
