"""CloudFront's origin timeouts fit its quotas and the ALB behind it waits at least as long."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation, referenced_id

CLOUDFRONT_DEFAULT_QUOTA = 60
"""Origin read and keep-alive timeouts above this need a CloudFront quota increase (a manual step)."""


def _idle_timeout(balancer: dict[str, object]) -> int:
    attributes = balancer.get("Properties", {}).get("LoadBalancerAttributes", [])  # type: ignore[attr-defined]
    for attribute in attributes:
        if attribute.get("Key") == "idle_timeout.timeout_seconds":
            return int(attribute["Value"])
    return 60


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CloudFront refuses an origin read or keep-alive timeout above 60 seconds unless the account has
    a quota increase (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html#DownloadDistValuesOriginResponseTimeout,
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html), so a
    template with more fails on a fresh account. The ALB closes any connection that carries no byte for
    its idle timeout (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout):
    an idle timeout shorter than CloudFront's read timeout cuts answers CloudFront still waits for (a
    504 after the idle timeout instead of the read timeout), and one shorter than CloudFront's keep-alive
    timeout closes connections CloudFront is about to reuse (502s)."""
    for template in templates:
        for logical_id, distribution in template.resources("AWS::CloudFront::Distribution"):
            origins = distribution.get("Properties", {}).get("DistributionConfig", {}).get("Origins", [])
            for origin in origins:
                config = origin.get("VpcOriginConfig") or origin.get("CustomOriginConfig")
                if not config:
                    continue
                read = int(config.get("OriginReadTimeout", 30))
                keepalive = int(config.get("OriginKeepaliveTimeout", 5))
                for name, value in (("OriginReadTimeout", read), ("OriginKeepaliveTimeout", keepalive)):
                    if value > CLOUDFRONT_DEFAULT_QUOTA:
                        yield Violation(
                            template.path,
                            logical_id,
                            f"{name} {value} s needs a CloudFront quota increase (default maximum 60 s)",
                        )
                balancer_id = referenced_id(origin.get("DomainName"))
                balancer = template.resource(balancer_id) if balancer_id else None
                if not balancer or balancer.get("Type") != "AWS::ElasticLoadBalancingV2::LoadBalancer":
                    continue
                idle = _idle_timeout(balancer)
                if idle < max(read, keepalive):
                    yield Violation(
                        template.path,
                        balancer_id or "-",
                        f"idle timeout {idle} s is shorter than CloudFront's read ({read} s) or keep-alive "
                        f"({keepalive} s) timeout for origin {origin.get('Id')}",
                    )


RULE = DeployRule("request-timeouts", "CloudFront and ALB timeouts fit the quotas and each other", check)
