"""Rule autoscaled-desired-count (issue 10 item 2): deploys leave the scaled-out task count alone."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.autoscaled_desired_count import RULE, scaled_services
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"


def test_the_web_service_is_the_one_autoscaled(shipped_templates: list[StackTemplate]) -> None:
    template = find(shipped_templates, APPLICATION)
    services = [service for _, service in scaled_services(template)]
    assert len(services) == 1
    service = template.resource(services[0])
    assert service is not None
    assert service["Properties"]["LoadBalancers"], "the web service"


def test_catches_a_desired_count_beside_autoscaling(shipped_templates: list[StackTemplate]) -> None:
    template = find(shipped_templates, APPLICATION)
    (_, service), *_ = scaled_services(template)

    def with_count(body: dict) -> None:
        body["Resources"][service]["Properties"]["DesiredCount"] = 2

    violations = RULE.violations([broken(template, with_count)])
    assert [v.resource for v in violations] == [service]


def test_a_fixed_count_without_autoscaling_is_fine(shipped_templates: list[StackTemplate]) -> None:
    """The cron service keeps DesiredCount 1: nothing else manages its count."""
    template = find(shipped_templates, APPLICATION)
    counted = [
        logical_id
        for logical_id, resource in template.resources("AWS::ECS::Service")
        if "DesiredCount" in resource["Properties"]
    ]
    assert len(counted) == 1
    assert not RULE.violations([template])
