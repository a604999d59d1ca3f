"""compliance.acknowledgments: one finding on one resource, with a reason, or nothing at all."""

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from compliance.acknowledgments import (
    AcknowledgmentError,
    acknowledge,
    acknowledge_internal,
    ignore_cfn_lint,
    skip_checkov,
    skip_checkov_internal,
    wildcard_resource_finding,
)

REASON = "A reason long enough to say why this finding is acceptable here."


def _findings(stack: Stack) -> set[tuple[str, str]]:
    report = AwsSolutionsChecks().validate_scope(stack)
    return {
        (violation.rule_name, str(resource.construct_path))
        for violation in report.violations
        for resource in violation.violating_resources
    }


def _role_with_wildcards(stack: Stack) -> iam.Role:
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:Get*"], resources=["arn:aws:s3:::bucket/*"]))
    return role


def test_an_acknowledgment_covers_exactly_the_finding_it_names() -> None:
    stack = Stack(App(), "Stack")
    role = _role_with_wildcards(stack)
    acknowledge(role, "AwsSolutions-IAM5[Action::s3:Get*]", REASON)
    rules = {rule for rule, _ in _findings(stack)}
    assert "AwsSolutions-IAM5[Action::s3:Get*]" not in rules
    assert "AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/*]" in rules, "another finding of the rule stays"


def test_an_acknowledgment_covers_only_its_own_resource() -> None:
    stack = Stack(App(), "Stack")
    first, second = s3.Bucket(stack, "First"), s3.Bucket(stack, "Second")
    acknowledge(first, "AwsSolutions-S1", REASON)
    flagged = {path for rule, path in _findings(stack) if rule == "AwsSolutions-S1"}
    assert flagged == {second.node.default_child.node.path}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("rule_id", "reason", "message"),
    [
        ("AwsSolutions-IAM5", REASON, "one finding"),
        ("AwsSolutions-IAM4", REASON, "one finding"),
        ("AwsSolutions-S1", "fine", "reason"),
        ("Custom-S1", REASON, "not a rule of the registered packs"),
    ],
)
def test_vague_acknowledgments_are_refused(rule_id: str, reason: str, message: str) -> None:
    bucket = s3.Bucket(Stack(App(), "Stack"), "Bucket")
    with pytest.raises(AcknowledgmentError, match=message):
        acknowledge(bucket, rule_id, reason)


def test_a_whole_stack_or_stage_cannot_be_acknowledged() -> None:
    app = App()
    stack = Stack(app, "Stack")
    for scope in (app, stack):
        with pytest.raises(AcknowledgmentError, match="never on a whole stack"):
            acknowledge(scope, "AwsSolutions-S1", REASON)


def test_internal_resources_are_found_by_path_even_when_cdk_creates_them_late() -> None:
    app = App()
    stack = Stack(app, "Stack")
    s3.Bucket(stack, "Early")
    acknowledge_internal(stack, "Early", "AwsSolutions-S1", REASON)
    acknowledge_internal(stack, "Late", "AwsSolutions-S1", REASON)
    s3.Bucket(stack, "Late")  # created after its acknowledgment, as CDK creates some while synthesizing
    assert {path for rule, path in _findings(stack) if rule == "AwsSolutions-S1"} == {"Stack/Late/Resource"}
    app.synth()  # the deferred acknowledgment resolves when the app is validated
    assert not [path for rule, path in _findings(stack) if rule == "AwsSolutions-S1"]


def test_a_stale_internal_path_fails_the_synthesis() -> None:
    app = App()
    stack = Stack(app, "Stack")
    skip_checkov_internal(stack, "NoSuchProvider/Handler", "CKV_AWS_115", REASON)
    with pytest.raises(RuntimeError, match="NoSuchProvider/Handler"):
        app.synth()


def test_checkov_skips_and_cfn_lint_ignores_land_in_the_template_metadata() -> None:
    app = App()
    stack = Stack(app, "Stack")
    bucket = s3.Bucket(stack, "Bucket")
    skip_checkov(bucket, "CKV_AWS_18", REASON)
    skip_checkov(bucket, "CKV_AWS_21", REASON)
    skip_checkov(bucket, "CKV_AWS_21", REASON)
    ignore_cfn_lint(bucket, "E3703", REASON)
    template = app.synth().get_stack_by_name("Stack").template
    metadata = template["Resources"][stack.get_logical_id(bucket.node.default_child)]["Metadata"]  # type: ignore[arg-type]
    assert metadata["checkov"] == {
        "skip": [{"id": "CKV_AWS_18", "comment": REASON}, {"id": "CKV_AWS_21", "comment": REASON}]
    }
    assert metadata["cfn-lint"] == {"config": {"ignore_checks": ["E3703"]}}
    assert metadata["cfn-lint-reasons"] == {"E3703": REASON}
    with pytest.raises(AcknowledgmentError, match="checkov check ID"):
        skip_checkov(bucket, "S3_LOGGING", REASON)


def test_wildcard_findings_are_written_the_way_cdk_nag_writes_them() -> None:
    stack = Stack(App(), "Stack")
    bucket = s3.Bucket(stack, "Bucket")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    arn = f"{bucket.bucket_arn}/uploads/*"
    role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[arn]))
    finding = wildcard_resource_finding(role, arn)
    assert finding == "AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/uploads/*]"
    assert finding in {rule for rule, _ in _findings(stack)}
    acknowledge(role, finding, REASON)
    assert finding not in {rule for rule, _ in _findings(stack)}
