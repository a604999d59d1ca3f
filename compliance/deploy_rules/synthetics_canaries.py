"""Synthetics canaries can run: their execution role may do what every run does, their artifacts go to a
bucket whose name Synthetics accepts, and a run ends before the next one is due."""

import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    referenced_id,
    role_allows,
)

EXECUTION_ROLE_ACTIONS = (
    "s3:PutObject",
    "s3:GetBucketLocation",
    "s3:ListAllMyBuckets",
    "cloudwatch:PutMetricData",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
)
"""What the role of every canary needs (Synthetics' required permissions, linked below)."""

RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours)\)")


def _schedule_seconds(expression: Json) -> int | None:
    """The interval of a ``rate(...)`` schedule; None for cron expressions and ``rate(0 minute)`` (once)."""
    match = RATE.fullmatch(expression) if isinstance(expression, str) else None
    if not match or int(match[1]) == 0:
        return None
    return int(match[1]) * (3600 if match[2].startswith("hour") else 60)


def _bucket_problems(template: StackTemplate, location: Json) -> Iterator[str]:
    parts = location.get("Fn::Join", ["", []])[1] if isinstance(location, dict) else [location]
    text = "".join(part for part in parts if isinstance(part, str))
    if not text.startswith("s3://"):
        yield f"ArtifactS3Location must start with s3://, got {text!r}"
    bucket = next((referenced_id(part) for part in parts if referenced_id(part)), None)
    if bucket is not None:
        name = (template.resource(bucket) or {}).get("Properties", {}).get("BucketName")
        if isinstance(name, str) and "." in name:
            yield f"artifacts bucket {name!r}: Synthetics refuses bucket names with a period"


def _problems(template: StackTemplate, properties: dict[str, Json]) -> Iterator[str]:
    role = referenced_id(properties.get("ExecutionRoleArn"))
    if role is None:
        yield "ExecutionRoleArn names no role of this template, so its permissions cannot be checked"
    else:
        missing = [action for action in EXECUTION_ROLE_ACTIONS if not role_allows(template, role, action)]
        if missing:
            yield f"its execution role may not {', '.join(missing)}"
    yield from _bucket_problems(template, properties.get("ArtifactS3Location"))
    interval = _schedule_seconds((properties.get("Schedule") or {}).get("Expression"))
    timeout = (properties.get("RunConfig") or {}).get("TimeoutInSeconds")
    if interval is not None and isinstance(timeout, int) and timeout > interval:
        yield f"a run may take {timeout} s, longer than the {interval} s between runs"
    in_vpc = bool(properties.get("VPCConfig"))
    if in_vpc and role is not None and not role_allows(template, role, "ec2:CreateNetworkInterface"):
        yield "it runs in a VPC, but its execution role may not ec2:CreateNetworkInterface"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A canary's execution role needs s3:PutObject and s3:GetBucketLocation on its artifacts,
    s3:ListAllMyBuckets, cloudwatch:PutMetricData (CloudWatchSynthetics namespace) and permission to write
    its Lambda's logs, and ec2:CreateNetworkInterface (with describe and delete) when it runs in a VPC
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html);
    without them every run fails before the script starts, or the create fails. Artifacts go to an
    ``s3://`` location whose bucket name has no period, and a run's timeout may not be longer than the
    interval between runs
    (https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CreateCanary.html,
    https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_CanaryRunConfigInput.html)."""
    for template in templates:
        for logical_id, canary in template.resources("AWS::Synthetics::Canary"):
            for problem in _problems(template, canary.get("Properties", {})):
                yield Violation(template.path, logical_id, problem)


RULE = DeployRule("synthetics-canaries", "Synthetics canaries can run and store their artifacts", check)
