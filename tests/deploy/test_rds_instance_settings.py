"""Rule rds-instance-settings: windows, monitoring, storage, log exports and parameter family."""

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.rds_instance_settings import RULE, overlaps
from tests.deploy.conftest import broken, find, resource_of_type

DATA = "MoodlePipeline/Prod/Data"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("02:00-03:00", "sun:03:30-sun:04:30", False),
        ("03:00-04:00", "sun:03:30-sun:04:30", True),
        ("23:30-00:30", "mon:00:00-mon:00:45", True),
        ("sun:23:30-mon:00:30", "mon:00:15-mon:01:00", True),
        ("sun:22:00-sun:23:00", "mon:00:15-mon:01:00", False),
    ],
)
def test_windows_overlap_across_days_and_the_week_end(first: str, second: str, expected: bool) -> None:
    assert overlaps(first, second) is expected


def test_catches_every_refused_setting(shipped_templates: list[StackTemplate]) -> None:
    def refused(body: dict) -> None:
        properties = resource_of_type(body, "AWS::RDS::DBInstance")["Properties"]
        properties.update(
            PreferredBackupWindow="03:40-04:00",
            MaxAllocatedStorage=int(properties["AllocatedStorage"]),
            EnableCloudwatchLogsExports=["error", "postgresql"],
        )
        del properties["MonitoringRoleArn"]
        resource_of_type(body, "AWS::RDS::DBParameterGroup")["Properties"]["Family"] = "mysql8.0"

    messages = [v.message for v in RULE.violations([broken(find(shipped_templates, DATA), refused)])]
    assert len(messages) == 6
    for fragment in (
        "backup window 03:40-04:00 is shorter than 30 minutes",
        "overlaps maintenance window sun:03:30-sun:04:30",
        "MonitoringInterval without MonitoringRoleArn",
        "is not at least 10% above AllocatedStorage",
        "MySQL cannot export the logs ['postgresql']",
        "parameter group family mysql8.0 does not match engine version 8.4",
    ):
        assert any(fragment in message for message in messages), fragment


def test_shipped_database_passes(shipped_templates: list[StackTemplate]) -> None:
    assert not RULE.violations([find(shipped_templates, DATA)])
