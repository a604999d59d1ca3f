"""What a reviewer gets from the pipeline: the compliance results in the synth build's report group,
approvals that link them and name the release, and the permission-broadening check before each
deployment."""

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from compliance.junit import JUNIT_NAME
from moodle_infra.config import ProjectConfig
from pipeline.approval_step import COMMENT_LIMIT
from pipeline.synth_step import ACKNOWLEDGMENT_CHANGES, RESULTS_URL, VARIABLES_NAMESPACE
from tests.pipeline.conftest import IMAGE_BUILD_ARGS
from tests.pipeline.test_pipeline_stack import (
    ENVIRONMENT_STAGES,
    _action,
    _actions,
    _build_spec,
    _build_spec_object,
    _deployments,
    _pipeline,
    _policy_statements_of_project,
    _project,
)

RESULTS = f"#{{{VARIABLES_NAMESPACE}.{RESULTS_URL}}}"
CHANGES = f"#{{{VARIABLES_NAMESPACE}.{ACKNOWLEDGMENT_CHANGES}}}"


def _synth(template: Template) -> dict[str, Any]:
    return _action(template, "Build", "Synth")


def _synth_build_spec(template: Template) -> dict[str, Any]:
    return _build_spec_object(_project(template, _synth(template)))


def test_synth_build_reports_the_compliance_junit_to_its_report_group(pipeline_template: Template) -> None:
    (report_group_id,) = [
        logical_id
        for logical_id in pipeline_template.find_resources(
            "AWS::CodeBuild::ReportGroup", {"Properties": {"Type": "TEST"}}
        )
        if logical_id.startswith("ComplianceReports")
    ]
    assert _synth_build_spec(pipeline_template)["reports"] == {
        f"<{report_group_id}.Arn>": {
            "files": [JUNIT_NAME],
            "base-directory": "cdk.out",
            "file-format": "JUNITXML",
        }
    }
    statements = _policy_statements_of_project(pipeline_template, _synth(pipeline_template))
    reporting = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [report_group_id, "Arn"]}]
    assert [set(statement["Action"]) for statement in reporting] == [
        {"codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"}
    ]


def test_synth_exports_the_review_link_and_the_acknowledgment_changes(pipeline_template: Template) -> None:
    synth = _synth(pipeline_template)
    assert synth["Namespace"] == VARIABLES_NAMESPACE
    build_spec = _synth_build_spec(pipeline_template)
    # and DEPLOY, the security rebuilds' decision (tests/pipeline/test_security_rebuild.py)
    assert build_spec["env"]["exported-variables"][:2] == [RESULTS_URL, ACKNOWLEDGMENT_CHANGES]
    commands = build_spec["phases"]["build"]["commands"]
    assert commands.index("make synth") < commands.index(
        f'{RESULTS_URL}="$(.venv/bin/python -m pipeline.review_link)" && export {RESULTS_URL}'
    )
    changes = "ACKNOWLEDGMENT_CHANGES"
    assert f'{changes}="$(cat cdk.out/acknowledgment-changes.txt)" && export {changes}' in commands


def test_the_source_is_a_git_clone_so_the_previous_commit_is_there(pipeline_template: Template) -> None:
    (source,) = _actions(pipeline_template, "Source")
    assert source["Configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"


@pytest.mark.parametrize(("tested", "target"), [("dev", "staging"), ("staging", "prod")])
def test_approvals_link_this_runs_compliance_results_and_name_the_release(
    pipeline_template: Template, expected_image_tag: str, tested: str, target: str
) -> None:
    approval = _action(pipeline_template, ENVIRONMENT_STAGES[target], f"PromoteTo-{target}")
    configuration = approval["Configuration"]
    assert configuration["ExternalEntityLink"] == RESULTS
    comment = configuration["CustomData"]
    assert f"Moodle {IMAGE_BUILD_ARGS['MOODLE_VERSION']}" in comment
    assert f"image {expected_image_tag}" in comment
    assert f"Acknowledgments: {CHANGES}." in comment
    assert f"{tested} passed its smoke tests" in comment
    worst_case = comment.replace(CHANGES, "999 added, 999 removed, 999 reworded since HEAD^")
    assert len(worst_case) <= COMMENT_LIMIT


@pytest.mark.parametrize(("environment", "stage_name"), ENVIRONMENT_STAGES.items())
def test_permission_broadening_is_confirmed_before_each_deployment_and_before_the_approval(
    pipeline_template: Template, environment: str, stage_name: str
) -> None:
    check = _action(pipeline_template, stage_name, f"Permissions-{environment}.Check")
    confirm = _action(pipeline_template, stage_name, f"Permissions-{environment}.Confirm")
    assert check["RunOrder"] < confirm["RunOrder"]
    assert confirm["Configuration"]["ExternalEntityLink"] == f"#{{{check['Namespace']}.LINK}}"
    first_deployment = min(action["RunOrder"] for action in _deployments(pipeline_template, stage_name))
    if environment == "dev":
        assert confirm["RunOrder"] < first_deployment
    else:
        approval = _action(pipeline_template, stage_name, f"PromoteTo-{environment}")
        assert confirm["RunOrder"] < approval["RunOrder"] < first_deployment
    variables = {v["name"]: v["value"] for v in json.loads(check["Configuration"]["EnvironmentVariables"])}
    assert variables["STAGE_PATH"] == f"MoodlePipeline/{stage_name}"
    assert "cdk diff -a . --security-only --fail $STAGE_PATH/\\\\*" in _build_spec(
        _project(pipeline_template, check)
    )


def test_one_permissions_check_project_serves_every_environment(pipeline_template: Template) -> None:
    projects = {
        _action(pipeline_template, stage, f"Permissions-{env}.Check")["Configuration"]["ProjectName"]["Ref"]
        for env, stage in ENVIRONMENT_STAGES.items()
    }
    assert len(projects) == 1
    assert _pipeline(pipeline_template)["Tags"] == [{"Key": "SECURITY_CHECK", "Value": "ALLOW_APPROVE"}]


def test_pipeline_exposes_the_report_group(pipeline_stack: Any, project_config: ProjectConfig) -> None:
    assert pipeline_stack.compliance_reports.node.path == "MoodlePipeline/ComplianceReports"
