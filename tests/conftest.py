"""Session-wide fixtures: the shipped configuration and every environment synthesized once.

Synthesis dominates the suite's run time, so each app is built once per session and the tests
read templates from it (``Template.from_stack`` on a stage's stack is then nearly free).
"""

import copy
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

# Both must be set before aws_cdk is imported: cfn-lint runs the template schema checks instead.
os.environ.setdefault("CDK_VALIDATION", "false")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from moodle_infra.config import CustomDomain, ProjectConfig, load_config
from moodle_infra.moodle_image import EcrImage
from stages.moodle_stage import MoodleStage
from tests.host_php import forbid_host_php  # noqa: F401  (autouse: the host's PHP may only lint)
from tests.synthesis import Synthesis, synthesize

ROOT = Path(__file__).resolve().parent.parent

TEST_IMAGE = EcrImage(
    repository_arn="arn:aws:ecr:eu-west-1:111111111111:repository/moodle",
    repository_name="moodle",
    tag="test-tag",
)

STAGE_STACKS = ("EdgeSecurity", "Network", "Audit", "Data", "Application")

TemplateOf = Callable[[str, str], Template]


@pytest.fixture(scope="session")
def raw_config() -> dict[str, Any]:
    """The ``moodle`` context of the shipped cdk.json; tests mutate deep copies of it."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return copy.deepcopy(context["moodle"])


@pytest.fixture(scope="session")
def project_config(raw_config: dict[str, Any]) -> ProjectConfig:
    return load_config(raw_config)


@pytest.fixture(scope="session")
def stages(project_config: ProjectConfig) -> dict[str, MoodleStage]:
    """dev, staging and prod as shipped, plus prod with a custom domain in a Route 53 zone, staging
    with existing certificates (every distinct shape of an environment) and dev with the next image."""
    app = App()
    configs = dict(project_config.environments)
    configs["prod-domain"] = replace(
        project_config.environments["prod"],
        name="prod-domain",
        custom_domain=CustomDomain(
            domain_name="moodle.example.edu", hosted_zone_id="Z0123456789ABC", hosted_zone_name="example.edu"
        ),
    )
    configs["staging-certs"] = replace(
        project_config.environments["staging"],
        name="staging-certs",
        custom_domain=CustomDomain(
            domain_name="moodle-staging.example.edu",
            cloudfront_certificate_arn="arn:aws:acm:us-east-1:333333333333:certificate/11111111-1111-1111-1111-111111111111",
            alb_certificate_arn="arn:aws:acm:eu-west-1:333333333333:certificate/22222222-2222-2222-2222-222222222222",
        ),
    )
    stages = {
        name: MoodleStage(app, name.title().replace("-", ""), config=config, image=TEST_IMAGE)
        for name, config in configs.items()
    }
    stages["dev-next-image"] = MoodleStage(
        app, "DevNextImage", config=configs["dev"], image=replace(TEST_IMAGE, tag="next-tag")
    )
    return stages


@pytest.fixture(scope="session")
def template(stages: dict[str, MoodleStage]) -> TemplateOf:
    """``template("prod", "Data")``: the synthesized template of one stack of one environment."""
    cache: dict[tuple[str, str], Template] = {}

    def of(environment: str, stack: str) -> Template:
        key = (environment, stack)
        if key not in cache:
            stack_construct = stages[environment].node.find_child(stack)
            assert isinstance(stack_construct, Stack)
            cache[key] = Template.from_stack(stack_construct)
        return cache[key]

    return of


@pytest.fixture(scope="session")
def shipped_synthesis(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The shipped app (pipeline, its stages and the sandbox) synthesized once, with cdk-nag."""
    return synthesize(tmp_path_factory.mktemp("shipped") / "cdk.out")
