"""The manual approval that promotes a change from one environment to the next."""

from aws_cdk import pipelines

from moodle_infra.config import EnvironmentConfig


def site_url(environment: EnvironmentConfig) -> str | None:
    """Known before deployment only with a custom domain; otherwise it is CloudFront's generated name."""
    return f"https://{environment.custom_domain.domain_name}" if environment.custom_domain else None


def promotion_approval(
    *, tested: EnvironmentConfig, target: EnvironmentConfig
) -> pipelines.ManualApprovalStep:
    """The approver sees which environment passed, where to look at it, and what approval deploys."""
    tested_url = site_url(tested)
    tested_where = tested_url or f"the SiteUrl output of the {tested.name} Application stack"
    target_url = site_url(target)
    target_where = f" ({target_url})" if target_url else ""
    return pipelines.ManualApprovalStep(
        f"PromoteTo-{target.name}",
        comment=(
            f"{tested.name} is deployed and passed its smoke tests: review it at {tested_where}. "
            f"Approving deploys this change to {target.name}{target_where}."
        ),
        review_url=tested_url,
    )
