"""RDS engine versions that keep deploying for years: a major version kept patched by RDS."""

import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, StackTemplate, Violation

MINOR_PINNED = re.compile(r"^\d+\.\d+\.\d+")
"""MySQL and MariaDB minor versions look like 8.4.7; a major version like 8.4."""


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """RDS deprecates minor engine versions on a published schedule: after the date it refuses to
    create instances of that version and upgrades running ones in their maintenance window
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html,
    https://docs.aws.amazon.com/AmazonRDS/latest/MySQLReleaseNotes/mysql-versions.html). A template
    that pins a minor version then fails to create a new environment, and once RDS has moved the
    instance on, every update that touches it fails asking for the older version. So an instance names
    its major version only (RDS picks the current minor on create,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-engineversion)
    and lets RDS apply minor upgrades (AutoMinorVersionUpgrade true); a pinned minor version with
    minor upgrades on is refused too, because the first automatic upgrade makes the template older than
    the instance."""
    for template in templates:
        for logical_id, resource in template.resources("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
            properties = resource.get("Properties", {})
            version = properties.get("EngineVersion")
            if isinstance(version, str) and MINOR_PINNED.match(version):
                yield Violation(
                    template.path,
                    logical_id,
                    f"EngineVersion {version} pins a minor version that RDS will retire; name the major "
                    "version only",
                )
            if (
                resource["Type"] == "AWS::RDS::DBInstance"
                and properties.get("AutoMinorVersionUpgrade") is not True
            ):
                yield Violation(
                    template.path,
                    logical_id,
                    "AutoMinorVersionUpgrade is not true: the instance falls behind until RDS forces "
                    "an upgrade on its own schedule",
                )


RULE = DeployRule("rds-engine-version", "RDS names a major engine version and applies minor upgrades", check)
