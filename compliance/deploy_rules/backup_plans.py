"""AWS Backup plans can run: a role AWS Backup may assume, a vault, a valid lifecycle."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    StackTemplate,
    Violation,
    literal,
    referenced_id,
    statements,
)

COLD_STORAGE_MINIMUM_DAYS = 90
BACKUP_SERVICE_POLICY = "service-role/AWSBackupServiceRolePolicyForBackup"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A backup selection's role must trust backup.amazonaws.com and carry the permissions to back up
    its resources, for which AWS provides AWSBackupServiceRolePolicyForBackup
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html); otherwise every job
    fails with "IAM role ... is not authorized". A rule's vault must exist in the stack, and recovery
    points moved to cold storage must stay there at least 90 days, so DeleteAfterDays must exceed
    MoveToColdStorageAfterDays by 90 or AWS Backup refuses the plan
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html)."""
    for template in templates:
        vaults = {logical_id for logical_id, _ in template.resources("AWS::Backup::BackupVault")}
        for logical_id, plan in template.resources("AWS::Backup::BackupPlan"):
            for rule in plan.get("Properties", {}).get("BackupPlan", {}).get("BackupPlanRule", []):
                vault = referenced_id(rule.get("TargetBackupVault"))
                if vault not in vaults and literal(rule.get("TargetBackupVault")) not in ("Default",):
                    yield Violation(
                        template.path, logical_id, f"rule {rule.get('RuleName')} names no vault of this stack"
                    )
                lifecycle = rule.get("Lifecycle") or {}
                cold, delete = lifecycle.get("MoveToColdStorageAfterDays"), lifecycle.get("DeleteAfterDays")
                if (
                    cold is not None
                    and delete is not None
                    and int(delete) < int(cold) + COLD_STORAGE_MINIMUM_DAYS
                ):
                    yield Violation(
                        template.path,
                        logical_id,
                        f"rule {rule.get('RuleName')} deletes cold recovery points before 90 days",
                    )
        for logical_id, selection in template.resources("AWS::Backup::BackupSelection"):
            role_id = referenced_id(
                selection.get("Properties", {}).get("BackupSelection", {}).get("IamRoleArn")
            )
            role = (template.resource(role_id or "") or {}).get("Properties", {})
            trusted = any(
                "backup.amazonaws.com" in str(statement.get("Principal"))
                for statement in statements(role.get("AssumeRolePolicyDocument"))
            )
            managed = [literal(arn) or "" for arn in role.get("ManagedPolicyArns", [])]
            if not trusted:
                yield Violation(template.path, logical_id, "its role does not trust backup.amazonaws.com")
            if not any(arn.endswith(BACKUP_SERVICE_POLICY) for arn in managed):
                yield Violation(
                    template.path, logical_id, "its role lacks AWSBackupServiceRolePolicyForBackup"
                )


RULE = DeployRule("backup-plans", "AWS Backup plans have a role, a vault and a valid lifecycle", check)
