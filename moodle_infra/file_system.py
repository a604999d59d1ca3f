"""EFS: Moodle's shared ``moodledata`` (never code: that is baked into the image)."""

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra import image_contract
from moodle_infra.config import EnvironmentConfig
from moodle_infra.network import PRIVATE_SUBNETS
from moodle_infra.removal import removal_policy


class FileSystem(Construct):
    """Encrypted, elastic-throughput EFS with backups and one access point owned by the image's user."""

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, config: EnvironmentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            encrypted=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            enable_automatic_backups=True,
            lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
            out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
            removal_policy=removal_policy(config.removal_policy, supports_snapshot=False),
            allow_anonymous_access=False,
        )
        acknowledge(
            self.file_system,
            "NIST.800.53.R5-EFSInBackupPlan",
            "EFS automatic backups are AWS Backup's own daily plan for the file system (35-day recovery "
            "points in the aws/efs/automatic-backup-vault); a second plan would only double the copies",
        )
        self.access_point = self.file_system.add_access_point(
            "MoodleData",
            path="/moodledata",
            posix_user=efs.PosixUser(
                uid=str(image_contract.RUNTIME_UID), gid=str(image_contract.RUNTIME_GID)
            ),
            create_acl=efs.Acl(
                owner_uid=str(image_contract.RUNTIME_UID),
                owner_gid=str(image_contract.RUNTIME_GID),
                permissions="750",
            ),
        )
