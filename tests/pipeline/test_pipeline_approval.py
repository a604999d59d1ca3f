"""What the approver is told: the environment that passed, where to review it, what approval deploys."""

from dataclasses import replace

from moodle_infra.config import CustomDomain, ProjectConfig
from pipeline.approval_step import promotion_approval


def test_comment_names_both_environments_and_where_to_look(project_config: ProjectConfig) -> None:
    dev, staging = project_config.environments["dev"], project_config.environments["staging"]
    approval = promotion_approval(tested=dev, target=staging)
    assert approval.comment is not None
    assert "dev is deployed and passed its smoke tests" in approval.comment
    assert "SiteUrl output of the dev Application stack" in approval.comment
    assert approval.comment.endswith("deploys this change to staging.")
    assert approval.review_url is None


def test_custom_domains_become_review_link_and_target_url(project_config: ProjectConfig) -> None:
    staging = replace(
        project_config.environments["staging"],
        custom_domain=CustomDomain(domain_name="staging.moodle.example.edu"),
    )
    prod = replace(
        project_config.environments["prod"], custom_domain=CustomDomain(domain_name="moodle.example.edu")
    )
    approval = promotion_approval(tested=staging, target=prod)
    assert approval.review_url == "https://staging.moodle.example.edu"
    assert approval.comment is not None
    assert "review it at https://staging.moodle.example.edu" in approval.comment
    assert "deploys this change to prod (https://moodle.example.edu)" in approval.comment
