"""What deleting a stateful resource from a template does, per the environment's ``removal_policy``."""

from aws_cdk import RemovalPolicy

from moodle_infra.config import RemovalMode

_POLICIES = {
    "destroy": RemovalPolicy.DESTROY,
    "snapshot": RemovalPolicy.SNAPSHOT,
    "retain": RemovalPolicy.RETAIN,
}


def removal_policy(mode: RemovalMode, *, supports_snapshot: bool) -> RemovalPolicy:
    """Resources that cannot be snapshotted by CloudFormation (EFS, S3) are retained instead."""
    if mode == "snapshot" and not supports_snapshot:
        return RemovalPolicy.RETAIN
    return _POLICIES[mode]
