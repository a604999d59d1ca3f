"""Rule retained-names (issue 10 item 3): what outlives a stack does not block its re-creation."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.retained_names import RULE
from tests.deploy.conftest import broken, find, resource_of_type


def test_waf_log_group_and_backup_vault_names_end_in_the_stack_id(
    shipped_templates: list[StackTemplate],
) -> None:
    log_group = resource_of_type(
        find(shipped_templates, "MoodlePipeline/Prod/EdgeSecurity").body, "AWS::Logs::LogGroup"
    )
    vault = resource_of_type(
        find(shipped_templates, "MoodlePipeline/Prod/Data").body, "AWS::Backup::BackupVault"
    )
    for resource, name_property, prefix in (
        (log_group, "LogGroupName", "aws-waf-logs-moodle-prod-"),
        (vault, "BackupVaultName", "moodle-prod-"),
    ):
        assert resource["DeletionPolicy"] == "Retain"
        name = resource["Properties"][name_property]["Fn::Join"][1]
        assert name[0] == prefix
        assert "AWS::StackId" in str(name[1])


def test_the_image_repository_is_removed_when_its_first_create_fails(
    shipped_templates: list[StackTemplate],
) -> None:
    repository = resource_of_type(find(shipped_templates, "MoodlePipeline").body, "AWS::ECR::Repository")
    assert repository["DeletionPolicy"] == "RetainExceptOnCreate"
    assert repository["Properties"]["RepositoryName"] == "moodle"


def test_catches_a_retained_log_group_with_a_fixed_name(shipped_templates: list[StackTemplate]) -> None:
    """The WAF log group as it was: ``aws-waf-logs-moodle-prod``, retained."""

    def fixed(body: dict) -> None:
        resource_of_type(body, "AWS::Logs::LogGroup")["Properties"]["LogGroupName"] = (
            "aws-waf-logs-moodle-prod"
        )

    violations = RULE.violations([broken(find(shipped_templates, "MoodlePipeline/Prod/EdgeSecurity"), fixed)])
    assert len(violations) == 1
    assert "'aws-waf-logs-moodle-prod' with DeletionPolicy Retain" in violations[0].message


def test_catches_a_retained_repository_and_a_name_built_from_the_account(
    shipped_templates: list[StackTemplate],
) -> None:
    """Plain Retain on the repository (no clean-up documented for it), and a vault whose name only
    adds the account and region: fixed for every create in that account."""

    def retained(body: dict) -> None:
        resource_of_type(body, "AWS::ECR::Repository")["DeletionPolicy"] = "Retain"

    def account_name(body: dict) -> None:
        resource_of_type(body, "AWS::Backup::BackupVault")["Properties"]["BackupVaultName"] = {
            "Fn::Join": ["-", ["moodle", {"Ref": "AWS::AccountId"}, {"Ref": "AWS::Region"}]]
        }

    violations = RULE.violations(
        [
            broken(find(shipped_templates, "MoodlePipeline"), retained),
            broken(find(shipped_templates, "MoodlePipeline/Prod/Data"), account_name),
        ]
    )
    assert [v.stack for v in violations] == ["MoodlePipeline (broken)", "MoodlePipeline/Prod/Data (broken)"]


def test_deleted_resources_may_have_fixed_names(shipped_templates: list[StackTemplate]) -> None:
    def deleted(body: dict) -> None:
        log_group = resource_of_type(body, "AWS::Logs::LogGroup")
        log_group["Properties"]["LogGroupName"] = "aws-waf-logs-moodle-prod"
        log_group["DeletionPolicy"] = "Delete"

    assert not RULE.violations([broken(find(shipped_templates, "MoodlePipeline/Prod/EdgeSecurity"), deleted)])
