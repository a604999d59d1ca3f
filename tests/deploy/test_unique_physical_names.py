"""Rule unique-physical-names: environments can share an account without name collisions."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.unique_physical_names import RULE
from tests.deploy.conftest import broken, find, resource_of_type


def _one_account(templates: list[StackTemplate]) -> list[StackTemplate]:
    return [
        StackTemplate(t.path, "999999999999", t.region, t.body, t.directory, t.stack_name) for t in templates
    ]


def test_every_environment_and_the_sandbox_fit_in_one_account(shipped_templates: list[StackTemplate]) -> None:
    assert not RULE.violations(_one_account(shipped_templates))


def test_catches_two_environments_with_the_same_trail_and_dashboard(
    shipped_templates: list[StackTemplate],
) -> None:
    """Staging's stacks renamed to prod's names: what two environments named alike would create."""

    def as_prod(body: dict) -> None:
        for resource in body["Resources"].values():
            properties = resource.get("Properties", {})
            for name in ("TrailName", "DashboardName", "RoleName", "Name"):
                if name in properties:
                    properties[name] = properties[name].replace("staging", "prod")

    clones = [
        broken(find(shipped_templates, f"MoodlePipeline/Staging/{stack}"), as_prod)
        for stack in ("Audit", "Application")
    ]
    violations = RULE.violations(_one_account([*shipped_templates, *clones]))
    assert sorted(v.message for v in violations) == [
        "AWS::CloudTrail::Trail 'moodle-prod' is also created by MoodlePipeline/Prod/Audit",
        "AWS::CloudWatch::Dashboard 'moodle-prod' is also created by MoodlePipeline/Prod/Application",
        "AWS::IAM::Role 'moodle-prod-journey-runner' is also created by MoodlePipeline/Prod/Application",
        "AWS::Synthetics::Canary 'moodle-prod-journey' is also created by MoodlePipeline/Prod/Application",
    ]


def test_catches_two_canaries_of_one_name_in_one_region(shipped_templates: list[StackTemplate]) -> None:
    def as_prod(body: dict) -> None:
        """Only the canary takes prod's name; the clone's other names are its own."""
        for resource in body["Resources"].values():
            for name in ("DashboardName", "RoleName"):
                if name in resource.get("Properties", {}):
                    resource["Properties"][name] = f"clone-{resource['Properties'][name]}"
        resource_of_type(body, "AWS::Synthetics::Canary")["Properties"]["Name"] = "moodle-prod-journey"

    clone = broken(find(shipped_templates, "MoodlePipeline/Staging/Application"), as_prod)
    violations = RULE.violations(_one_account([*shipped_templates, clone]))
    assert [v.message for v in violations] == [
        "AWS::Synthetics::Canary 'moodle-prod-journey' is also created by MoodlePipeline/Prod/Application"
    ]
