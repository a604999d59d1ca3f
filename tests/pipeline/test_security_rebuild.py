"""Security rebuilds (issue 20): the schedule that starts the pipeline, the synth step's refresh of the
image's Debian pins, the pins the image build gets, and what the approvals say when the pins moved."""

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from compliance.deploy_rules.model import as_list
from moodle_infra.config import ProjectConfig
from moodle_infra.image_pins import ImagePins, load_pins
from pipeline.pipeline_stack import PipelineStack
from tests.pipeline.conftest import IMAGE_BUILD_ARGS
from tests.pipeline.test_pipeline_stack import (
    _action,
    _build_spec_object,
    _pipeline,
    _policy_statements_of_project,
    _project,
)

COMMITTED = load_pins()


def moved_pins() -> ImagePins:
    """A week in which Debian fixed OpenSSL and PHP: two packages moved, and the snapshot with them."""
    packages = dict(COMMITTED.packages)
    packages["libssl3t64"] += "+deb13u99"
    packages["php8.4-fpm"] += "+deb13u99"
    return replace(COMMITTED, snapshot="20261214T000000Z", packages=tuple(sorted(packages.items())))


def _variables(template: Template, stage: str, action: str) -> dict[str, Any]:
    project = _project(template, _action(template, stage, action))
    return {
        variable["Name"]: variable["Value"] for variable in project["Environment"]["EnvironmentVariables"]
    }


@pytest.fixture(scope="module")
def rebuilt_template(project_config: ProjectConfig, image_directory: Any) -> Template:
    """The pipeline as the synth step makes it when the refresh moved two packages, with the schedule off
    (a rebuild started by hand, or by a push)."""
    config = replace(project_config, pipeline=replace(project_config.pipeline, security_rebuild=None))
    stack = PipelineStack(
        App(),
        "MoodlePipeline",
        config=config,
        image_directory=image_directory,
        image_build_args=IMAGE_BUILD_ARGS,
        image_pins=moved_pins(),
        committed_pins=COMMITTED,
    )
    return Template.from_stack(stack)


def _schedule_rules(template: Template) -> Mapping[str, Any]:
    return template.find_resources(
        "AWS::Events::Rule", {"Properties": {"ScheduleExpression": Match.any_value()}}
    )


def test_the_schedule_starts_this_pipeline(
    pipeline_template: Template, project_config: ProjectConfig
) -> None:
    (rule,) = _schedule_rules(pipeline_template).values()
    properties = rule["Properties"]
    assert project_config.pipeline.security_rebuild is not None
    assert properties["ScheduleExpression"] == project_config.pipeline.security_rebuild.schedule
    (target,) = properties["Targets"]
    pipeline_id = next(iter(pipeline_template.find_resources("AWS::CodePipeline::Pipeline")))
    assert pipeline_id in json.dumps(target["Arn"])
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    inline = pipeline_template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    )
    assert inline == {}, "a managed policy, not an inline one (NIST 800-53 AC-6)"
    policies = pipeline_template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    )
    statements = [
        s for policy in policies.values() for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("codepipeline:StartPipelineExecution", target["Arn"])
    ], "the schedule's role may start this pipeline and nothing else"


def test_the_synth_step_refreshes_the_pins_before_it_synthesizes(pipeline_template: Template) -> None:
    commands = _build_spec_object(_project(pipeline_template, _action(pipeline_template, "Build", "Synth")))[
        "phases"
    ]["build"]["commands"]
    refresh = next(i for i, command in enumerate(commands) if "pipeline.image_pins_refresh" in command)
    assert commands[refresh + 1] == "export MOODLE_IMAGE_PINS=.image-pins/refreshed.json"
    assert refresh + 1 < commands.index("make synth")


def test_the_synth_step_decides_and_exports_whether_this_execution_deploys(
    pipeline_template: Template,
) -> None:
    project = _project(pipeline_template, _action(pipeline_template, "Build", "Synth"))
    spec = _build_spec_object(project)
    commands = spec["phases"]["build"]["commands"]
    decision = commands.index('DEPLOY="$(.venv/bin/python -m pipeline.rebuild_decision)" && export DEPLOY')
    assert decision > commands.index("make synth")
    assert "DEPLOY" in spec["env"]["exported-variables"]
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["IMAGE_REPOSITORY_NAME"] == "moodle"


def test_the_synth_step_may_read_this_pipelines_executions_and_this_repositorys_images(
    pipeline_template: Template,
) -> None:
    statements = _policy_statements_of_project(
        pipeline_template, _action(pipeline_template, "Build", "Synth")
    )
    by_action = {
        action: statement["Resource"]
        for statement in statements
        for action in as_list(statement["Action"])
        if action.startswith(("codepipeline:Get", "ecr:"))
    }
    pipeline_id = next(iter(pipeline_template.find_resources("AWS::CodePipeline::Pipeline")))
    assert set(by_action) == {
        "codepipeline:GetPipelineState",
        "codepipeline:GetPipelineExecution",
        "ecr:DescribeImages",
    }
    assert pipeline_id in json.dumps(by_action["codepipeline:GetPipelineState"])
    assert "MoodleImagesRepository" in json.dumps(by_action["ecr:DescribeImages"])


@pytest.mark.parametrize("stage", ["Dev", "Staging", "Prod"])
def test_each_environment_is_skipped_unless_the_synth_step_says_deploy(
    pipeline_template: Template, stage: str
) -> None:
    (found,) = [s for s in _pipeline(pipeline_template)["Stages"] if s["Name"] == stage]
    (condition,) = found["BeforeEntry"]["Conditions"]
    assert condition["Result"] == "SKIP"
    (rule,) = condition["Rules"]
    assert rule["RuleTypeId"] == {
        "Category": "Rule",
        "Owner": "AWS",
        "Provider": "VariableCheck",
        "Version": "1",
    }
    assert rule["Configuration"] == {
        "Variable": "#{SynthVariables.DEPLOY}",
        "Operator": "EQ",
        "Value": "true",
    }


def test_the_build_and_the_pipeline_update_are_never_skipped(pipeline_template: Template) -> None:
    conditioned = [s["Name"] for s in _pipeline(pipeline_template)["Stages"] if "BeforeEntry" in s]
    assert conditioned == ["Dev", "Staging", "Prod"]


def test_the_synth_step_hands_the_pins_it_built_from_to_the_image_build(pipeline_template: Template) -> None:
    """Through the cloud assembly, not the build project's settings: a new snapshot day that moves no
    package leaves the pipeline unchanged, so it neither self-mutates nor restarts."""
    synth = _build_spec_object(_project(pipeline_template, _action(pipeline_template, "Build", "Synth")))
    commands = synth["phases"]["build"]["commands"]
    copy = 'cp "${MOODLE_IMAGE_PINS:-image/debian-pins.json}" cdk.out/image-pins.json'
    assert commands.index(copy) == commands.index("make synth") + 1
    image_build = _action(pipeline_template, "Dev", "BuildMoodleImage")
    assert len(image_build["InputArtifacts"]) == 2, "the source and the synth step's assembly"
    variables = _variables(pipeline_template, "Dev", "BuildMoodleImage")
    assert variables["IMAGE_PINS"] == "assembly/image-pins.json"
    assert not {"BASE_IMAGE", "DEBIAN_SNAPSHOT"} & variables.keys()
    buildspec = json.dumps(_build_spec_object(_project(pipeline_template, image_build)))
    assert 'BASE_IMAGE=\\"$(jq -er .base_image \\"$IMAGE_PINS\\")\\"' in buildspec
    assert 'DEBIAN_SNAPSHOT=\\"$(jq -er .snapshot \\"$IMAGE_PINS\\")\\"' in buildspec


def test_committed_pins_are_no_security_rebuild(pipeline_template: Template) -> None:
    approval = _action(pipeline_template, "Staging", "PromoteTo-staging")
    assert "Security rebuild" not in approval["Configuration"]["CustomData"]


def test_without_a_schedule_there_is_no_rule_no_refresh_and_no_skipping(rebuilt_template: Template) -> None:
    assert _schedule_rules(rebuilt_template) == {}
    assert not any("BeforeEntry" in stage for stage in _pipeline(rebuilt_template)["Stages"])
    commands = _build_spec_object(_project(rebuilt_template, _action(rebuilt_template, "Build", "Synth")))[
        "phases"
    ]["build"]["commands"]
    assert not any("image_pins_refresh" in command for command in commands)


def test_moved_pins_build_a_new_tag_from_the_new_snapshot(
    rebuilt_template: Template, pipeline_template: Template
) -> None:
    moved = _variables(rebuilt_template, "Dev", "BuildMoodleImage")
    committed = _variables(pipeline_template, "Dev", "BuildMoodleImage")
    assert moved["IMAGE_TAG"] != committed["IMAGE_TAG"]


def test_a_new_snapshot_day_alone_changes_nothing_in_the_pipeline(
    project_config: ProjectConfig, image_directory: Any, pipeline_template: Template
) -> None:
    """The cumulative case: last week's moved pins again, one week later. Same packages, new timestamp:
    the same template, so the execution is not restarted and the decision can skip the environments."""
    later = PipelineStack(
        App(), "MoodlePipeline", config=project_config, image_directory=image_directory,
        image_build_args=IMAGE_BUILD_ARGS, image_pins=replace(COMMITTED, snapshot="20270104T000000Z"),
        committed_pins=COMMITTED,
    )  # fmt: skip
    assert Template.from_stack(later).to_json() == pipeline_template.to_json()


@pytest.mark.parametrize("stage", ["Staging", "Prod"])
def test_every_approval_says_security_rebuild_and_names_the_moved_packages(
    rebuilt_template: Template, stage: str
) -> None:
    comment = _action(rebuilt_template, stage, f"PromoteTo-{stage.lower()}")["Configuration"]["CustomData"]
    assert comment.endswith(" Security rebuild, 2 Debian packages moved: libssl3t64, php8.4-fpm.")
