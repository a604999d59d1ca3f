"""The pipeline stack synthesized once per session, from the shipped configuration.

The App here has no cdk-nag: these tests check the pipeline's structure, the compliance suite checks
its findings. The image tag is hashed from a small stand-in for ``image/``, so that the tests say
which tag the stages must deploy without depending on the real image's contents.
"""

from pathlib import Path

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from moodle_infra.config import ProjectConfig
from moodle_infra.image_pins import load_pins
from pipeline.image_tag import image_tag
from pipeline.pipeline_stack import PipelineStack


@pytest.fixture(scope="session")
def image_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("image")
    (directory / "Dockerfile").write_text("FROM public.ecr.aws/debian/debian:bookworm-slim\n")
    return directory


IMAGE_BUILD_ARGS = {"MOODLE_VERSION": "5.1.6", "MOODLE_SHA256": "0123456789abcdef" * 4}


@pytest.fixture(scope="session")
def expected_image_tag(image_directory: Path) -> str:
    return image_tag(image_directory, build_args=IMAGE_BUILD_ARGS, pins=load_pins())


@pytest.fixture(scope="session")
def pipeline_stack(project_config: ProjectConfig, image_directory: Path) -> PipelineStack:
    return PipelineStack(
        App(),
        "MoodlePipeline",
        config=project_config,
        image_directory=image_directory,
        image_build_args=IMAGE_BUILD_ARGS,
    )


@pytest.fixture(scope="session")
def pipeline_template(pipeline_stack: PipelineStack) -> Template:
    return Template.from_stack(pipeline_stack)
