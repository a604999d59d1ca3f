"""RDS MySQL: Moodle's database."""

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

from moodle_infra.config import EnvironmentConfig
from moodle_infra.network import PRIVATE_SUBNETS
from moodle_infra.removal import removal_policy
from moodle_infra.retention import log_retention

ENGINE_VERSION = rds.MysqlEngineVersion.VER_8_4_7
"""Pinned minor version: an engine upgrade is a reviewed change, never a surprise."""

DATABASE_NAME = "moodle"
DATABASE_USER = "moodle"
DATABASE_PORT = 3306


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
            parameters={
                "character_set_server": "utf8mb4",
                "collation_server": "utf8mb4_unicode_ci",
                "innodb_file_per_table": "1",
                "max_allowed_packet": "67108864",
                "slow_query_log": "1",
                "long_query_time": "2",
                "log_output": "FILE",
            },
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
            credentials=rds.Credentials.from_generated_secret(DATABASE_USER),
            parameter_group=parameters,
            allocated_storage=settings.allocated_storage_gib,
            max_allocated_storage=settings.max_allocated_storage_gib,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            multi_az=settings.multi_az,
            backup_retention=Duration.days(settings.backup_retention_days),
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            auto_minor_version_upgrade=False,
            deletion_protection=config.deletion_protection,
            delete_automated_backups=config.removal_policy == "destroy",
            removal_policy=removal_policy(config.removal_policy, supports_snapshot=True),
            cloudwatch_logs_exports=["error", "slowquery"],
            cloudwatch_logs_retention=log_retention(config.log_retention_days),
            monitoring_interval=Duration.seconds(60),
            copy_tags_to_snapshot=True,
            publicly_accessible=False,
        )
        assert self.instance.secret is not None, "generated credentials always come with a secret"
        self.secret = self.instance.secret
        self.database_name = DATABASE_NAME

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
