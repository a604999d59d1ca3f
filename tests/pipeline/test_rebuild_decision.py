"""Whether an execution deploys (pipeline/rebuild_decision.py), with botocore's Stubber for CodePipeline and
ECR: a scheduled execution whose image exists skips the environments, everything else deploys, and a
failed call fails the synth step instead of guessing."""

import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from moodle_infra.config import load_config
from pipeline.rebuild_decision import CDK_JSON, decide, this_image_tag
from pipeline.security_rebuild import synth_extension
from tests.synthesis import Synthesis

PIPELINE = "MoodlePipeline-Pipeline-ABC"
EXECUTION = "1111-2222-3333"
TAG = "img-0123456789abcdef"


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    session = botocore.session.get_session()
    codepipeline = session.create_client("codepipeline", region_name="eu-west-1")
    ecr = session.create_client("ecr", region_name="eu-west-1")
    with Stubber(codepipeline) as pipeline_stub, Stubber(ecr) as ecr_stub:
        yield codepipeline, pipeline_stub, ecr, ecr_stub
        pipeline_stub.assert_no_pending_responses()
        ecr_stub.assert_no_pending_responses()


def expect_execution(stub: Stubber, trigger: str) -> None:
    stages = [("Source", "older", "Succeeded"), ("Build", EXECUTION, "InProgress")]
    stub.add_response(
        "get_pipeline_state",
        {
            "stageStates": [
                {"stageName": name, "latestExecution": {"pipelineExecutionId": execution, "status": status}}
                for name, execution, status in stages
            ]
        },
        {"name": PIPELINE},
    )
    stub.add_response(
        "get_pipeline_execution",
        {"pipelineExecution": {"pipelineExecutionId": EXECUTION, "trigger": {"triggerType": trigger}}},
        {"pipelineName": PIPELINE, "pipelineExecutionId": EXECUTION},
    )


def run(clients: tuple[Any, Stubber, Any, Stubber]) -> tuple[bool, str]:
    codepipeline, _, ecr, _ = clients
    return decide(codepipeline=codepipeline, ecr=ecr, pipeline=PIPELINE, repository="moodle", tag=TAG)


@pytest.mark.parametrize("trigger", ["Webhook", "WebhookV2", "StartPipelineExecution", "PutActionRevision"])
def test_a_push_or_a_manual_start_always_deploys(
    clients: tuple[Any, Stubber, Any, Stubber], trigger: str
) -> None:
    expect_execution(clients[1], trigger)
    assert run(clients) == (True, f"started by {trigger}: it deploys like every push")


def test_a_scheduled_run_with_a_new_image_deploys(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    expect_execution(clients[1], "CloudWatchEvent")
    clients[3].add_client_error(
        "describe_images", service_error_code="ImageNotFoundException",
        expected_params={"repositoryName": "moodle", "imageIds": [{"imageTag": TAG}]},
    )  # fmt: skip
    deploy, why = run(clients)
    assert deploy
    assert "a security rebuild" in why


def test_a_scheduled_run_whose_image_exists_skips_the_environments(
    clients: tuple[Any, Stubber, Any, Stubber],
) -> None:
    expect_execution(clients[1], "CloudWatchEvent")
    clients[3].add_response(
        "describe_images",
        {"imageDetails": [{"imageTags": [TAG], "imageDigest": "sha256:" + "a" * 64}]},
        {"repositoryName": "moodle", "imageIds": [{"imageTag": TAG}]},
    )
    deploy, why = run(clients)
    assert not deploy
    assert "Dev, Staging and Prod are skipped" in why


def test_a_failed_call_fails_instead_of_guessing(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    expect_execution(clients[1], "CloudWatchEvent")
    clients[3].add_client_error("describe_images", service_error_code="AccessDeniedException")
    with pytest.raises(clients[2].exceptions.ClientError, match="AccessDenied"):
        run(clients)


def test_the_decision_asks_for_the_tag_the_app_synthesized(shipped_synthesis: Synthesis) -> None:
    """The decision computes the tag on its own; it must be the one the image build step was given."""
    template = json.loads((shipped_synthesis.outdir / "MoodlePipeline.template.json").read_text())
    tags = {
        variable["Value"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CodeBuild::Project"
        for variable in resource["Properties"]["Environment"].get("EnvironmentVariables", [])
        if variable["Name"] == "IMAGE_TAG"
    }
    assert tags == {this_image_tag()}


def test_a_failed_decision_fails_the_synth_steps_command() -> None:
    """The command as the buildspec runs it, in bash from the repository: outside CodePipeline the decision
    exits 2, and so must the command (``export DEPLOY="$(...)"`` would exit 0 and leave DEPLOY empty,
    which skips every environment)."""
    config = load_config(json.loads(CDK_JSON.read_text())["context"]["moodle"])
    (command,) = synth_extension(config.pipeline.security_rebuild, repository_name="moodle").after_synth
    environment = {key: value for key, value in os.environ.items() if key != "CODEBUILD_INITIATOR"}
    result = subprocess.run(
        ["bash", "-c", command], cwd=CDK_JSON.parent, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "not started by CodePipeline" in result.stderr
    exported = subprocess.run(["bash", "-c", 'export DEPLOY="$(exit 2)"'], check=False)
    assert exported.returncode == 0, "the form the command must not take"
