"""Buckets that AWS services deliver logs into accept those deliveries."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    allows,
    as_list,
    literal,
    referenced_id,
    resolve,
    statements,
)

NO_CLOUDFRONT_LOG_DELIVERY = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
    }
)
"""Regions whose buckets CloudFront's standard (legacy) logging does not deliver to."""


def _encryption(bucket: dict[str, Json]) -> str:
    rules = (
        bucket.get("Properties", {}).get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    )
    algorithms = [rule.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for rule in rules]
    return str(algorithms[0]) if algorithms else "AES256"


def _policy(owner: StackTemplate, bucket: str) -> list[dict[str, Json]]:
    return [
        statement
        for _, policy in owner.resources("AWS::S3::BucketPolicy")
        if referenced_id(policy.get("Properties", {}).get("Bucket")) == bucket
        for statement in statements(policy["Properties"].get("PolicyDocument"))
    ]


def _grants_put(policy: list[dict[str, Json]], principals: tuple[str, ...]) -> bool:
    """Whether a statement lets one of ``principals`` (service names, or ``account-root`` for any
    account root, as ELB's regional log delivery accounts are) s3:PutObject."""
    for statement in policy:
        if not allows(statement, "s3:PutObject"):
            continue
        principal = statement.get("Principal") or {}
        granted = [literal(p) or "" for key in ("Service", "AWS") for p in as_list(principal.get(key, []))]
        for name in granted:
            if name in principals or ("account-root" in principals and name.endswith(":root")):
                return True
    return False


def _alb_problems(templates: Sequence[StackTemplate], template: StackTemplate) -> Iterator[tuple[str, str]]:
    for logical_id, balancer in template.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        attributes = {
            item["Key"]: item["Value"]
            for item in balancer.get("Properties", {}).get("LoadBalancerAttributes", [])
        }
        if attributes.get("access_logs.s3.enabled") != "true":
            continue
        located = resolve(templates, template, attributes.get("access_logs.s3.bucket"))
        if located is None:
            yield logical_id, "its access log bucket is not in any synthesized stack"
            continue
        owner, bucket = located
        if _encryption(owner.resource(bucket) or {}) != "AES256":
            yield (
                logical_id,
                f"access log bucket {bucket} is not SSE-S3 encrypted (ALB delivers to SSE-S3 only)",
            )
        services = (
            "logdelivery.elasticloadbalancing.amazonaws.com",
            "delivery.logs.amazonaws.com",
            "account-root",
        )
        if not _grants_put(_policy(owner, bucket), services):
            yield logical_id, f"the policy of {bucket} does not let ELB log delivery put objects"


def _cloudfront_problems(
    templates: Sequence[StackTemplate], template: StackTemplate
) -> Iterator[tuple[str, str]]:
    for logical_id, distribution in template.resources("AWS::CloudFront::Distribution"):
        logging = distribution.get("Properties", {}).get("DistributionConfig", {}).get("Logging")
        if not logging:
            continue
        located = resolve(templates, template, logging.get("Bucket"))
        if located is None:
            yield logical_id, "its log bucket is not in any synthesized stack"
            continue
        owner, bucket = located
        ownership = [
            rule.get("ObjectOwnership")
            for rule in (owner.resource(bucket) or {})
            .get("Properties", {})
            .get("OwnershipControls", {})
            .get("Rules", [])
        ]
        if not ownership or ownership[0] == "BucketOwnerEnforced":
            yield logical_id, f"log bucket {bucket} has ACLs disabled (BucketOwnerEnforced, the default)"
        if owner.region in NO_CLOUDFRONT_LOG_DELIVERY:
            yield (
                logical_id,
                f"log bucket {bucket} is in {owner.region}, where CloudFront delivers no standard logs",
            )


def _server_access_log_problems(template: StackTemplate) -> Iterator[tuple[str, str]]:
    for logical_id, bucket in template.resources("AWS::S3::Bucket"):
        destination = (
            bucket.get("Properties", {}).get("LoggingConfiguration", {}).get("DestinationBucketName")
        )
        target = referenced_id(destination)
        if target is None or template.resource(target) is None:
            continue
        if _encryption(template.resource(target) or {}) != "AES256":
            yield logical_id, f"server access log bucket {target} is not SSE-S3 encrypted"
        acl = (template.resource(target) or {}).get("Properties", {}).get("AccessControl")
        if acl != "LogDeliveryWrite" and not _grants_put(
            _policy(template, target), ("logging.s3.amazonaws.com",)
        ):
            yield logical_id, f"neither the policy nor the ACL of {target} lets S3 log delivery put objects"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """ALB access logs go only to buckets encrypted with S3-managed keys whose policy admits ELB log
    delivery (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html);
    without it, setting the load balancer attribute fails ("Access Denied for bucket"). CloudFront's
    standard logging writes through the bucket ACL, so the bucket must not have ACLs disabled, and it
    delivers to no bucket in some Regions
    (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html).
    S3 server access logs are delivered by logging.s3.amazonaws.com only into a bucket with SSE-S3
    default encryption whose policy (or, the older way, its LogDeliveryWrite ACL) admits it
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)."""
    for template in templates:
        found = [
            *_alb_problems(templates, template),
            *_cloudfront_problems(templates, template),
            *_server_access_log_problems(template),
        ]
        yield from (Violation(template.path, logical_id, problem) for logical_id, problem in found)


RULE = DeployRule("log-delivery-buckets", "Log buckets accept ALB, CloudFront and S3 log deliveries", check)
