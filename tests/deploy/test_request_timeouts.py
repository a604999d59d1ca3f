"""Rule request-timeouts (issue 10 item 6): CloudFront's origin timeouts fit its quotas and the ALB."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.request_timeouts import RULE
from tests.deploy.conftest import broken, find, resource_of_type

APPLICATION = "MoodlePipeline/Prod/Application"


def _idle_timeout(seconds: int):
    def breakage(body: dict) -> None:
        balancer = resource_of_type(body, "AWS::ElasticLoadBalancingV2::LoadBalancer")
        for attribute in balancer["Properties"]["LoadBalancerAttributes"]:
            if attribute["Key"] == "idle_timeout.timeout_seconds":
                attribute["Value"] = str(seconds)

    return breakage


def test_catches_an_alb_that_gives_up_before_cloudfront(shipped_templates: list[StackTemplate]) -> None:
    violations = RULE.violations([broken(find(shipped_templates, APPLICATION), _idle_timeout(30))])
    assert len(violations) == 1
    assert "idle timeout 30 s is shorter than CloudFront's read (60 s)" in violations[0].message


def test_catches_a_read_timeout_that_needs_a_quota_increase(shipped_templates: list[StackTemplate]) -> None:
    def slow(body: dict) -> None:
        distribution = resource_of_type(body, "AWS::CloudFront::Distribution")
        distribution["Properties"]["DistributionConfig"]["Origins"][0]["VpcOriginConfig"][
            "OriginReadTimeout"
        ] = 120

    violations = RULE.violations([broken(find(shipped_templates, APPLICATION), slow)])
    assert any("OriginReadTimeout 120 s needs a CloudFront quota increase" in v.message for v in violations)
    assert any("shorter than CloudFront's read (120 s)" in v.message for v in violations)


def test_shipped_application_passes(shipped_templates: list[StackTemplate]) -> None:
    assert not RULE.violations([find(shipped_templates, APPLICATION)])
