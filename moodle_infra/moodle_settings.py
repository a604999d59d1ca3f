"""The environment variables and secrets that the image's static config.php reads (see image/)."""

from dataclasses import dataclass, field

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from moodle_infra import image_contract
from moodle_infra.config import MoodleSiteConfig
from moodle_infra.forced_settings import forced_settings
from moodle_infra.monitoring_user import MonitoringUser


@dataclass(frozen=True, kw_only=True)
class MoodleSettings:
    """What every Moodle container of an environment is told; ``install_*`` only the installer."""

    environment: dict[str, str]
    secrets: dict[str, ecs.Secret]
    install_secrets: dict[str, ecs.Secret] = field(default_factory=dict)
    install_environment: dict[str, str] = field(default_factory=dict)


def moodle_settings(
    scope: Construct,
    *,
    wwwroot: str,
    site: MoodleSiteConfig,
    database_host: str,
    database_port: str,
    database_name: str,
    database_secret: secretsmanager.ISecret,
    redis_host: str,
    redis_port: str,
    redis_auth_token: secretsmanager.ISecret,
    admin_password: secretsmanager.ISecret,
    monitoring_user: MonitoringUser | None = None,
) -> MoodleSettings:
    environment = {
        "MOODLE_WWWROOT": wwwroot,
        "MOODLE_DB_TYPE": "mysqli",
        "MOODLE_DB_HOST": database_host,
        "MOODLE_DB_PORT": database_port,
        "MOODLE_DB_NAME": database_name,
        "MOODLE_REDIS_HOST": redis_host,
        "MOODLE_REDIS_PORT": redis_port,
        "MOODLE_REDIS_TLS": "true",
        "MOODLE_DATAROOT": image_contract.SHARED_DATA_PATH,
        "MOODLE_SITE_FULLNAME": site.site_full_name,
        "MOODLE_SITE_SHORTNAME": site.site_short_name,
        "MOODLE_ADMIN_USER": site.admin_user,
        "MOODLE_ADMIN_EMAIL": site.admin_email,
    }
    if site.noreply_address:
        environment["MOODLE_NOREPLY_ADDRESS"] = site.noreply_address
    secrets = {
        "MOODLE_DB_USER": ecs.Secret.from_secrets_manager(database_secret, "username"),
        "MOODLE_DB_PASSWORD": ecs.Secret.from_secrets_manager(database_secret, "password"),
        "MOODLE_REDIS_AUTH": ecs.Secret.from_secrets_manager(redis_auth_token),
    }
    if site.smtp_host:
        environment |= {"MOODLE_SMTP_HOST": site.smtp_host, "MOODLE_SMTP_PORT": str(site.smtp_port)}
        environment["MOODLE_SMTP_SECURE"] = "tls"
    if site.smtp_credentials_secret_arn:
        smtp = secretsmanager.Secret.from_secret_complete_arn(
            scope, "SmtpCredentials", site.smtp_credentials_secret_arn
        )
        secrets |= {
            "MOODLE_SMTP_USER": ecs.Secret.from_secrets_manager(smtp, "username"),
            "MOODLE_SMTP_PASSWORD": ecs.Secret.from_secrets_manager(smtp, "password"),
        }
    forced = forced_settings(scope, site=site)
    install_secrets = {"MOODLE_ADMIN_PASSWORD": ecs.Secret.from_secrets_manager(admin_password)}
    if monitoring_user is not None:
        environment |= monitoring_user.environment
        install_secrets |= monitoring_user.install_secrets
    # Only install-or-upgrade acts on it; set only when there are plugins, so the task stays as it was.
    uninstall = (
        {"MOODLE_UNINSTALL_PLUGINS": ",".join(site.uninstall_plugins)} if site.uninstall_plugins else {}
    )
    return MoodleSettings(
        environment=environment | forced.environment,
        secrets=secrets | forced.secrets,
        install_secrets=install_secrets,
        install_environment=uninstall,
    )
