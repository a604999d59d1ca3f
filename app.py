#!/usr/bin/env python3
"""Entry point: the sandbox stage, deployable straight from a laptop, and the delivery pipeline."""

import os
import sys
from dataclasses import replace
from pathlib import Path

from aws_cdk import App

from compliance.registration import register_compliance_checks
from moodle_infra.config import ConfigError, ProjectConfig, load_from_context
from moodle_infra.image_pins import PINS_ENVIRONMENT_VARIABLE, ImagePins, PinsError, load_pins
from moodle_infra.moodle_image import LocalImageBuild
from pipeline.pipeline_stack import PipelineStack
from stages.moodle_stage import MoodleStage


def sandbox_config(config: ProjectConfig) -> ProjectConfig:
    """The sandbox deploys into the caller's account when the CDK CLI knows it (``cdk deploy``)."""
    caller_account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    if not caller_account:
        return config
    return replace(config, sandbox=replace(config.sandbox, account=caller_account))


def image_pins() -> tuple[ImagePins, ImagePins]:
    """The committed Debian pins and the ones to build from: those the pipeline's synth step refreshed
    (pipeline/security_rebuild.py), when it did."""
    committed = load_pins()
    refreshed = os.environ.get(PINS_ENVIRONMENT_VARIABLE)
    return committed, load_pins(Path(refreshed)) if refreshed else committed


def build_app(app: App) -> App:
    """Validate the whole configuration first, so that a bad setting never builds half a system."""
    config = sandbox_config(load_from_context(app.node.try_get_context("moodle")))
    committed_pins, pins = image_pins()
    release = config.moodle_release.build_args()
    MoodleStage(
        app,
        "Sandbox",
        config=config.sandbox,
        image=LocalImageBuild(build_args=tuple(sorted((release | committed_pins.build_args()).items()))),
    )
    PipelineStack(
        app,
        "MoodlePipeline",
        config=config,
        image_build_args=release,
        image_pins=pins,
        committed_pins=committed_pins,
    )
    register_compliance_checks(app)
    return app


def main() -> int:
    """Synthesize; a bad configuration prints only its list of problems (a traceback would bury it)."""
    try:
        app = build_app(App())
    except (ConfigError, PinsError) as error:
        print(error, file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
