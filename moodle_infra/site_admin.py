"""The password of Moodle's first administrator, generated once and kept in Secrets Manager."""

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct


class SiteAdmin(Construct):
    """Only the install-or-upgrade task reads it; the admin changes it after the first login."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.password = secretsmanager.Secret(
            self,
            "Password",
            description="Initial password of Moodle's administrator",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_characters="\"'\\`$"
            ),
        )
