"""Rule backup-plans: the database's daily backups can run."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.backup_plans import RULE
from tests.deploy.conftest import broken, find, resource_of_type

DATA = "MoodlePipeline/Prod/Data"


def test_staging_and_prod_back_up_dev_does_not(shipped_templates: list[StackTemplate]) -> None:
    for stage, plans in (("Dev", 0), ("Staging", 1), ("Prod", 1)):
        data = find(shipped_templates, f"MoodlePipeline/{stage}/Data")
        assert len(list(data.resources("AWS::Backup::BackupPlan"))) == plans
    assert not RULE.violations(shipped_templates)


def test_catches_an_untrusted_role_and_a_short_cold_storage(shipped_templates: list[StackTemplate]) -> None:
    def misconfigured(body: dict) -> None:
        plan = resource_of_type(body, "AWS::Backup::BackupPlan")["Properties"]["BackupPlan"]
        plan["BackupPlanRule"][0]["Lifecycle"] = {"MoveToColdStorageAfterDays": 7, "DeleteAfterDays": 35}
        for logical_id, resource in body["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role" and "Backups" in logical_id:
                resource["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {
                    "Service": "ecs-tasks.amazonaws.com"
                }
                resource["Properties"]["ManagedPolicyArns"] = []

    messages = [v.message for v in RULE.violations([broken(find(shipped_templates, DATA), misconfigured)])]
    assert messages == [
        "rule Daily deletes cold recovery points before 90 days",
        "its role does not trust backup.amazonaws.com",
        "its role lacks AWSBackupServiceRolePolicyForBackup",
    ]
