"""Every template the deploy-time rules must hold for, synthesized once per session.

- The shipped app as ``cdk synth`` writes it: the pipeline stack, its dev, staging and prod stages, the
  pipeline's us-east-1 support stack and the sandbox stage.
- The other shapes of an environment (tests/conftest.py ``stages``): prod with a custom domain in a
  Route 53 zone, staging with existing certificates.
"""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template

from compliance.deploy_rules import StackTemplate, templates_of_assembly
from stages.moodle_stage import MoodleStage
from tests.conftest import STAGE_STACKS
from tests.synthesis import Synthesis

OTHER_SHAPES = ("prod-domain", "staging-certs")


@pytest.fixture(scope="session")
def shipped_templates(shipped_synthesis: Synthesis) -> list[StackTemplate]:
    assert shipped_synthesis.error is None, shipped_synthesis.error
    return templates_of_assembly(shipped_synthesis.assembly)


@pytest.fixture(scope="session")
def all_templates(
    shipped_templates: list[StackTemplate], stages: dict[str, MoodleStage]
) -> list[StackTemplate]:
    templates = list(shipped_templates)
    for shape in OTHER_SHAPES:
        for name in STAGE_STACKS:
            stack = stages[shape].node.find_child(name)
            assert isinstance(stack, Stack)
            body = dict(Template.from_stack(stack).to_json())
            depends_on = tuple(dependency.node.path for dependency in stack.dependencies)
            templates.append(
                StackTemplate(
                    stack.node.path, stack.account, stack.region, body, None, stack.stack_name, depends_on
                )
            )
    return templates


def find(templates: list[StackTemplate], path: str) -> StackTemplate:
    matching = [template for template in templates if template.path == path]
    assert len(matching) == 1, f"no template {path} among {[t.path for t in templates]}"
    return matching[0]


def broken(template: StackTemplate, breakage: Callable[[dict[str, Any]], None]) -> StackTemplate:
    """A deep copy of a real template with one deliberate defect: the negative control of a rule is the
    shipped template it passes, minus exactly what it enforces."""
    body = copy.deepcopy(template.body)
    breakage(body)
    return StackTemplate(
        f"{template.path} (broken)",
        template.account,
        template.region,
        body,
        template.directory,
        template.stack_name,
        template.depends_on,
    )


def resource_of_type(body: dict[str, Any], resource_type: str, index: int = 0) -> dict[str, Any]:
    resources = [r for r in body["Resources"].values() if r["Type"] == resource_type]
    assert resources, f"no {resource_type} in the template"
    return resources[index]
