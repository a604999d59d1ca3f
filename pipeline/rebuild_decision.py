"""Whether this pipeline execution deploys: run by the synth step after ``make synth`` when security rebuilds
are on (pipeline/security_rebuild.py), it prints "true" or "false" for the ``DEPLOY`` variable that the
Dev, Staging and Prod stages' entry conditions check.

An execution the schedule started (trigger ``CloudWatchEvent``) whose image tag is already in the
repository found nothing Debian fixed since that image was built: it skips the three stages instead of
asking approvers to promote an unchanged image every week. Every other execution (a push, a manual
start, a retry) deploys, as before. A failed AWS call fails the synth step: neither a silent skip nor a
silent deploy.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

from moodle_infra.config import load_from_context
from moodle_infra.image_pins import PINS_ENVIRONMENT_VARIABLE, PINS_FILE, load_pins
from moodle_infra.moodle_image import IMAGE_DIRECTORY
from pipeline.image_tag import image_tag
from pipeline.synth_step import SYNTH_STAGE

SCHEDULE_TRIGGER = "CloudWatchEvent"
"""GetPipelineExecution's trigger type for an execution an EventBridge rule started."""
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def decide(*, codepipeline: Any, ecr: Any, pipeline: str, repository: str, tag: str) -> tuple[bool, str]:
    """(deploy?, why). The execution is the one running the synth stage now."""
    state = codepipeline.get_pipeline_state(name=pipeline)
    (stage,) = [stage for stage in state["stageStates"] if stage["stageName"] == SYNTH_STAGE]
    execution_id = stage["latestExecution"]["pipelineExecutionId"]
    execution = codepipeline.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)
    trigger = execution["pipelineExecution"]["trigger"]["triggerType"]
    if trigger != SCHEDULE_TRIGGER:
        return True, f"started by {trigger}: it deploys like every push"
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return True, f"scheduled, and image {tag} is new: a security rebuild"
    return (
        False,
        f"scheduled, and image {tag} was built before: nothing moved, Dev, Staging and Prod are skipped",
    )


def this_image_tag() -> str:
    """The tag the app synthesized: image/, the release's build arguments and the pins it built from."""
    config = load_from_context(json.loads(CDK_JSON.read_text())["context"]["moodle"])
    pins_path = os.environ.get(PINS_ENVIRONMENT_VARIABLE)
    pins = load_pins(Path(pins_path) if pins_path else PINS_FILE)
    return image_tag(IMAGE_DIRECTORY, build_args=config.moodle_release.build_args(), pins=pins)


def main() -> int:
    import botocore.session  # type: ignore[import-untyped]

    initiator = os.environ.get("CODEBUILD_INITIATOR", "")
    if not initiator.startswith("codepipeline/"):
        print(f"not started by CodePipeline ({initiator!r}): nothing to decide", file=sys.stderr)
        return 2
    session = botocore.session.get_session()
    deploy, why = decide(
        codepipeline=session.create_client("codepipeline"),
        ecr=session.create_client("ecr"),
        pipeline=initiator.split("/", 1)[1],
        repository=os.environ["IMAGE_REPOSITORY_NAME"],
        tag=this_image_tag(),
    )
    print(f"deploy: {deploy}: {why}", file=sys.stderr)
    print("true" if deploy else "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
