"""Everything stateful: database, cache, shared files and the site admin's password.

Termination protection follows ``deletion_protection``; the resources' logical IDs are pinned by
tests/unit/test_stateful_ids.py because a changed ID makes CloudFormation replace the resource.
"""

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sns as sns
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra.backup import Backups
from moodle_infra.cache import Cache
from moodle_infra.config import EnvironmentConfig
from moodle_infra.database import Database
from moodle_infra.file_system import FileSystem
from moodle_infra.site_admin import SiteAdmin


class DataStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        vpc: ec2.IVpc,
        events_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, termination_protection=config.deletion_protection, **kwargs)
        self.database = Database(self, "Database", vpc=vpc, config=config, events_topic=events_topic)
        self.cache = Cache(self, "Cache", vpc=vpc, config=config)
        self.file_system = FileSystem(self, "FileSystem", vpc=vpc, config=config)
        self.site_admin = SiteAdmin(self, "SiteAdmin")
        if config.removal_policy == "destroy":
            acknowledge(
                self.database.instance,
                "NIST.800.53.R5-RDSInBackupPlan",
                f"{config.name} is disposable by configuration (removal_policy 'destroy'): it keeps RDS "
                "automated backups but no AWS Backup vault, which would outlive every teardown",
            )
        else:
            Backups(
                self,
                "Backups",
                environment=config.name,
                resources=[backup.BackupResource.from_rds_database_instance(self.database.instance)],
            )
