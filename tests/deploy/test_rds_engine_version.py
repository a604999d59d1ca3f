"""Rule rds-engine-version (issue 10 item 5): RDS gets a major version and keeps it patched."""

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.rds_engine_version import RULE
from tests.deploy.conftest import broken, find, resource_of_type


@pytest.mark.parametrize(
    ("version", "auto_minor", "expected"),
    [
        ("8.4.7", False, ["pins a minor version", "AutoMinorVersionUpgrade is not true"]),
        ("8.4.7", True, ["pins a minor version"]),
        ("8.4", False, ["AutoMinorVersionUpgrade is not true"]),
    ],
)
def test_catches_pinned_minor_versions_and_frozen_instances(
    shipped_templates: list[StackTemplate], version: str, auto_minor: bool, expected: list[str]
) -> None:
    def pinned(body: dict) -> None:
        properties = resource_of_type(body, "AWS::RDS::DBInstance")["Properties"]
        properties["EngineVersion"] = version
        properties["AutoMinorVersionUpgrade"] = auto_minor

    violations = RULE.violations([broken(find(shipped_templates, "MoodlePipeline/Prod/Data"), pinned)])
    assert len(violations) == len(expected)
    for violation, fragment in zip(violations, expected, strict=True):
        assert fragment in violation.message


def test_shipped_database_passes(shipped_templates: list[StackTemplate]) -> None:
    data = find(shipped_templates, "MoodlePipeline/Prod/Data")
    properties = resource_of_type(data.body, "AWS::RDS::DBInstance")["Properties"]
    assert (properties["EngineVersion"], properties["AutoMinorVersionUpgrade"]) == ("8.4", True)
    assert not RULE.violations([data])
