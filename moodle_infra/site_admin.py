"""The password of Moodle's first administrator, generated once and kept in Secrets Manager."""

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra.keys import secrets_key


class SiteAdmin(Construct):
    """Only the install-or-upgrade task reads it; the admin changes it after the first login."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.password = secretsmanager.Secret(
            self,
            "Password",
            description="Initial password of Moodle's administrator",
            encryption_key=secrets_key(self),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_characters="\"'\\`$"
            ),
        )
        for rule in ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled"):
            acknowledge(
                self.password,
                rule,
                "Only the first install reads this initial password; the administrator changes it in "
                "Moodle after the first login, so rotating the secret would change nothing in use",
            )
