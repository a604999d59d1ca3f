"""AWS Backup for the environment's database, in a vault of its own.

RDS keeps its own automated backups (point-in-time recovery for ``database.backup_retention_days``);
this plan adds daily recovery points that outlive them, held in a KMS-encrypted vault that a deleted
stack leaves behind. Disposable environments (``removal_policy`` "destroy") have no plan: a retained
vault full of recovery points would outlive every teardown. (moodledata on EFS is in AWS Backup through
EFS automatic backups, see file_system.py.)
"""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra.physical_names import name_for_this_stack

RETENTION = Duration.days(35)
"""As long as EFS automatic backups keep moodledata's, so that both can be restored to the same day."""


VAULT_NAME_MAX = 50
"""AWS Backup vault names: 2-50 letters, digits, hyphens and underscores."""


class Backups(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: str,
        resources: list[backup.BackupResource],
    ) -> None:
        super().__init__(scope, construct_id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            # Retained with its recovery points, so its name must not collide when the stack is created
            # again (CDK's default name is the same on every create).
            backup_vault_name=name_for_this_stack(f"moodle-{environment}", max_length=VAULT_NAME_MAX),
            encryption_key=kms.Key(
                self, "VaultKey", description="Encrypts Moodle's AWS Backup vault", enable_key_rotation=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=events.Schedule.cron(hour="4", minute="0"),
                    delete_after=RETENTION,
                )
            ],
        )
        selection = self.plan.add_selection("Moodle", resources=resources)
        acknowledge(
            selection.node.find_child("Role"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS's own policy for AWS Backup's service role, maintained by AWS as backup features "
            "change; the role can only be assumed by backup.amazonaws.com",
        )
