"""What the approver is told: what approval deploys, which environment passed and where to review it,
the link to this execution's compliance results, and the acknowledgments changed."""

from dataclasses import replace

import pytest

from moodle_infra.config import CustomDomain, ProjectConfig
from moodle_infra.image_pins import PackageChange
from pipeline.approval_step import COMMENT_LIMIT, VARIABLE_ROOM, ReleaseFacts, ReviewLinks, promotion_approval
from pipeline.review_link import build_url

RELEASE = ReleaseFacts(
    moodle_version="5.1.6", moodle_sha256="52ef3f988831" + "c" * 52, image_tag="img-0123456789abcdef"
)
LINKS = ReviewLinks(
    compliance_results="#{Synth.URL}",
    acknowledgment_changes="#{Synth.CHANGES}",
    vulnerability_summary="#{Scan.SUMMARY}",
)


def test_comment_names_the_release_both_environments_and_where_to_look(project_config: ProjectConfig) -> None:
    dev, staging = project_config.environments["dev"], project_config.environments["staging"]
    approval = promotion_approval(tested=dev, target=staging, release=RELEASE, links=LINKS)
    comment = approval.comment
    assert comment is not None
    assert comment.startswith(
        "Deploy Moodle 5.1.6 (archive SHA-256 52ef3f988831…), image img-0123456789abcdef to staging."
    )
    assert "dev passed its smoke tests: review it at its SiteUrl output." in comment
    assert "Acknowledgments: #{Synth.CHANGES}." in comment
    assert comment.endswith(" Image scan: #{Scan.SUMMARY}.")
    assert approval.review_url == "#{Synth.URL}", "the link opens this execution's compliance results"
    assert len(comment) <= COMMENT_LIMIT


def test_custom_domains_are_named_and_the_checksum_shown(project_config: ProjectConfig) -> None:
    staging = replace(
        project_config.environments["staging"],
        custom_domain=CustomDomain(domain_name="staging.moodle.example.edu"),
    )
    prod = replace(
        project_config.environments["prod"], custom_domain=CustomDomain(domain_name="moodle.example.edu")
    )
    other = replace(RELEASE, moodle_sha256="ab" * 32)
    comment = promotion_approval(tested=staging, target=prod, release=other, links=LINKS).comment
    assert comment is not None
    assert "review it at https://staging.moodle.example.edu" in comment
    assert "to prod (https://moodle.example.edu)" in comment
    assert "(archive SHA-256 abababababab…)" in comment


def test_domains_too_long_for_the_comment_are_refused_by_setting(project_config: ProjectConfig) -> None:
    long_name = "a" * 60 + ".example.edu"
    staging = replace(
        project_config.environments["staging"], custom_domain=CustomDomain(domain_name=long_name)
    )
    prod = replace(
        project_config.environments["prod"], custom_domain=CustomDomain(domain_name="b" + long_name)
    )
    with pytest.raises(ValueError, match=r"moodle\.environments\.staging\.custom_domain\.domain_name"):
        promotion_approval(tested=staging, target=prod, release=RELEASE, links=LINKS)


def test_review_link_is_the_console_page_of_the_running_build() -> None:
    arn = "arn:aws:codebuild:eu-west-1:111111111111:build/PipelineBuildSynthCdkBuildProject:0a1b-2c3d"
    assert build_url(arn) == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/111111111111/projects/"
        "PipelineBuildSynthCdkBuildProject/build/PipelineBuildSynthCdkBuildProject:0a1b-2c3d/?region=eu-west-1"
    )


def test_review_link_refuses_what_is_not_a_build_arn() -> None:
    with pytest.raises(ValueError, match="not a CodeBuild build ARN"):
        build_url("arn:aws:codebuild:eu-west-1:111111111111:project/Synth")


def _moved(count: int) -> tuple[PackageChange, ...]:
    return tuple(
        PackageChange(package=f"libexample{n}-{n}", before="3.5.1-1", after="3.5.1-1+deb13u1")
        for n in range(count)
    )


REAL_LINKS = ReviewLinks(
    compliance_results="#{SynthVariables.COMPLIANCE_RESULTS_URL}",
    acknowledgment_changes="#{SynthVariables.ACKNOWLEDGMENT_CHANGES}",
    vulnerability_summary="#{ScanMoodleImage.VULNERABILITY_SUMMARY}",
)


@pytest.mark.parametrize("count", [1, 3, 40])
def test_a_security_rebuild_names_what_fits_and_counts_the_rest(
    project_config: ProjectConfig, count: int
) -> None:
    staging, prod = project_config.environments["staging"], project_config.environments["prod"]
    release = replace(RELEASE, package_changes=_moved(count))
    comment = promotion_approval(tested=staging, target=prod, release=release, links=REAL_LINKS).comment
    assert comment is not None
    plural = "s" if count > 1 else ""
    assert f" Security rebuild, {count} Debian package{plural} moved: libexample0-0" in comment
    shown = comment.count("libexample")
    if shown < count:
        assert comment.endswith(f"; +{count - shown} more (Synth log).")
    else:
        assert comment.endswith(", ".join(f"libexample{n}-{n}" for n in range(count)) + ".")
    variables = ("#{SynthVariables.ACKNOWLEDGMENT_CHANGES}", "#{ScanMoodleImage.VULNERABILITY_SUMMARY}")
    resolved = len(comment) - sum(map(len, variables)) + VARIABLE_ROOM * len(variables)
    assert resolved <= COMMENT_LIMIT, "the comment fits once the variables are resolved"
    assert shown >= 1


def test_no_moved_package_is_no_security_rebuild(project_config: ProjectConfig) -> None:
    dev, staging = project_config.environments["dev"], project_config.environments["staging"]
    comment = promotion_approval(tested=dev, target=staging, release=RELEASE, links=REAL_LINKS).comment
    assert comment is not None
    assert "Security rebuild" not in comment
