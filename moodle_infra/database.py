"""RDS MySQL: Moodle's database."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from compliance.acknowledgments import acknowledge, ignore_cfn_lint, skip_checkov, skip_checkov_internal
from compliance.cdk_internals import skip_checkov_on_provider
from moodle_infra.config import EnvironmentConfig
from moodle_infra.database_parameters import SERVER_PARAMETERS
from moodle_infra.keys import secrets_key
from moodle_infra.managed_policy_role import ManagedPolicyRole
from moodle_infra.network import PRIVATE_SUBNETS
from moodle_infra.removal import removal_policy
from moodle_infra.retention import log_retention

ENGINE_MAJOR_VERSION = "8.4"
ENGINE_VERSION = rds.MysqlEngineVersion.of(ENGINE_MAJOR_VERSION, ENGINE_MAJOR_VERSION)
"""The major version only, with automatic minor upgrades in the maintenance window.

RDS retires minor versions on a schedule: after that it refuses new instances of them and upgrades the
old ones itself. A pinned minor version therefore breaks twice without any edit: a new environment
(or a re-created one) fails to create, and once RDS has moved an instance on, every update that
touches it fails because the template asks for an older version than the one running. With the
major version only, RDS creates the current default minor version and keeps it patched; the
"maintenance" RDS events reach the environment's topic. A major upgrade (MySQL 8.4 is an LTS
line) stays a reviewed change of this constant and of the parameter group family that follows it."""

DATABASE_NAME = "moodle"
DATABASE_USER = "moodle"
DATABASE_PORT = 3306

LOG_RETENTION_FUNCTION = "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
"""Construct ID of CDK's log retention Lambda, a singleton below the stack."""


class Database(Construct):
    """A MySQL 8.4 instance with generated credentials, backups and Moodle's character set."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: EnvironmentConfig,
        events_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = config.database
        engine = rds.DatabaseInstanceEngine.mysql(version=ENGINE_VERSION)

        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=engine,
            description="Moodle: utf8mb4 everywhere, row format and sizes Moodle expects",
            parameters=SERVER_PARAMETERS,
        )

        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_type=ec2.InstanceType(settings.instance_type),
            vpc=vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            port=DATABASE_PORT,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER, encryption_key=secrets_key(self)
            ),
            parameter_group=parameters,
            allocated_storage=settings.allocated_storage_gib,
            max_allocated_storage=settings.max_allocated_storage_gib,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=settings.multi_az,
            backup_retention=Duration.days(settings.backup_retention_days),
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            auto_minor_version_upgrade=True,
            deletion_protection=config.deletion_protection,
            delete_automated_backups=config.removal_policy == "destroy",
            removal_policy=removal_policy(config.removal_policy, supports_snapshot=True),
            cloudwatch_logs_exports=["error", "slowquery"],
            cloudwatch_logs_retention=log_retention(config.log_retention_days),
            cloudwatch_logs_retention_role=ManagedPolicyRole(
                self, "LogRetentionRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
            ),
            monitoring_interval=Duration.seconds(60),
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
        )
        assert self.instance.secret is not None, "generated credentials always come with a secret"
        self.secret = self.instance.secret
        self.database_name = DATABASE_NAME
        self._acknowledge(config)

        rds.CfnEventSubscription(
            self,
            "Events",
            sns_topic_arn=events_topic.topic_arn,
            source_type="db-instance",
            source_ids=[self.instance.instance_identifier],
            event_categories=[
                "availability",
                "deletion",
                "failover",
                "failure",
                "low storage",
                "maintenance",
            ],
            enabled=True,
        )

    def _acknowledge(self, config: EnvironmentConfig) -> None:
        instance = self.instance.node.default_child
        assert instance is not None
        if not config.database.multi_az:
            for rule in ("AwsSolutions-RDS3", "NIST.800.53.R5-RDSMultiAZSupport"):
                acknowledge(
                    instance,
                    rule,
                    f"{config.name} runs a single-AZ database by configuration (database.multi_az is false) "
                    "to save cost; it restores from backups, and prod sets multi_az",
                )
            skip_checkov(
                instance,
                "CKV_AWS_157",
                f"{config.name} runs a single-AZ database by configuration (database.multi_az is false)",
            )
        if not config.deletion_protection:
            for rule in ("AwsSolutions-RDS10", "NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled"):
                acknowledge(
                    instance,
                    rule,
                    f"{config.name} is disposable by configuration (deletion_protection is false, "
                    f"removal_policy {config.removal_policy!r}); staging and prod protect their database",
                )
        acknowledge(
            instance,
            "AwsSolutions-RDS11",
            "Only the Moodle tasks' security groups may reach the database, inside private subnets; a "
            "non-default port would hide nothing from a client that can reach it at all",
        )
        for log in ("audit", "general"):
            acknowledge(
                instance,
                f"NIST.800.53.R5-RDSLoggingEnabled[LogExport::{log}]",
                f"The {log} log would record every statement of Moodle's single application user (hundreds "
                "per page view); who did what is in Moodle's own log store and CloudTrail, and the error "
                "and slow query logs are exported",
            )
        ignore_cfn_lint(
            instance,
            "E3691",
            "cfn-lint lists only full MySQL versions, but RDS accepts a major version "
            f"({ENGINE_MAJOR_VERSION}) and creates its current default minor version (RDS User Guide, "
            "'Upgrading a DB instance engine version'; cfn-lint issue 3849); the deploy rule "
            "rds-engine-version checks the version instead",
        )
        skip_checkov(
            instance,
            "CKV_AWS_161",
            "Moodle's mysqli driver logs in with a user name and password; it cannot use IAM "
            "authentication tokens, which also expire every 15 minutes",
        )
        skip_checkov(
            instance,
            "CKV2_AWS_69",
            "The image's config.php does not open TLS connections to MySQL yet, so require_secure_transport "
            "would lock Moodle out; the traffic stays inside private subnets between two security groups",
        )
        monitoring_role = self.instance.node.find_child("MonitoringRole")
        acknowledge(
            monitoring_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole]",
            "AWS's own policy for RDS enhanced monitoring, maintained by AWS and limited to the RDS log "
            "groups; the role can only be assumed by monitoring.rds.amazonaws.com",
        )
        for rule in ("AwsSolutions-SMG4", "NIST.800.53.R5-SecretsManagerRotationEnabled"):
            acknowledge(
                self.instance.node.find_child("Secret"),
                rule,
                "ECS injects the password into Moodle's containers when a task starts, so a scheduled "
                "rotation would lock out every running task until it is replaced; rotate it together with "
                "a deployment that replaces the tasks",
            )
        # cloudwatch_logs_retention sets the retention of the log groups RDS creates, through CDK's log
        # retention Lambda (a singleton of the stack) running with LogRetentionRole.
        acknowledge(
            self.node.find_child("LogRetentionRole"),
            "AwsSolutions-IAM5[Resource::*]",
            "CDK's log retention function sets the retention of log groups that RDS creates at run time, "
            "under names unknown at synthesis; it may only put and delete retention policies",
        )
        skip_checkov_on_provider(Stack.of(self), f"{LOG_RETENTION_FUNCTION}/Resource")
        skip_checkov_internal(
            self,
            "LogRetentionRole/Policy",
            "CKV_AWS_111",
            "logs:PutRetentionPolicy and DeleteRetentionPolicy must name log groups that RDS creates at "
            "run time, under names unknown at synthesis",
        )


def estimated_max_connections(instance_type: str) -> int:
    """RDS MySQL's default ``max_connections`` is instance memory / 12,582,880 bytes; memory follows
    from the size (t and m classes: 4 GiB per xlarge quarter, r classes twice that)."""
    family, size = instance_type.split(".", 1)
    sizes_gib = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16}
    if size in sizes_gib:
        memory_gib = sizes_gib[size]
    else:
        multiplier = size.removesuffix("xlarge")
        memory_gib = 16 * int(multiplier) if multiplier.isdigit() else 16
    if family.startswith(("r", "x", "z")):
        memory_gib *= 2
    return memory_gib * 1024**3 // 12_582_880
