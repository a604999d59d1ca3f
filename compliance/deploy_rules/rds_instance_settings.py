"""RDS instances ask only for settings RDS accepts on create and on every later update."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation, referenced_id

MYSQL_LOG_EXPORTS = frozenset({"audit", "error", "general", "slowquery", "iam-db-auth-error"})
WEEK_MINUTES = 7 * 24 * 60
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(point: str) -> int:
    """``sun:03:30`` or ``03:30`` -> minutes since Monday 00:00 (a daily time counts on Monday)."""
    parts = point.lower().split(":")
    day = DAYS.index(parts[0]) if len(parts) == 3 else 0
    return day * 24 * 60 + int(parts[-2]) * 60 + int(parts[-1])


def _spans(window: str) -> list[tuple[int, int]]:
    """A window as half-open minute ranges over the week; a daily window repeats every day."""
    start_text, end_text = window.split("-")
    start, end = _minutes(start_text), _minutes(end_text)
    length = (end - start) % (WEEK_MINUTES if start_text.count(":") == 2 else 24 * 60)
    days = range(1) if start_text.count(":") == 2 else range(7)
    return [
        ((start + day * 1440) % WEEK_MINUTES, (start + day * 1440) % WEEK_MINUTES + length) for day in days
    ]


def window_minutes(window: str) -> int:
    return _spans(window)[0][1] - _spans(window)[0][0]


def overlaps(first: str, second: str) -> bool:
    """Whether two RDS/ElastiCache windows (``hh:mm-hh:mm`` daily or ``ddd:hh:mm-ddd:hh:mm`` weekly)
    share a minute, wrap-around at the end of the week included."""
    for a_start, a_end in _spans(first):
        for b_start, b_end in _spans(second):
            for shift in (-WEEK_MINUTES, 0, WEEK_MINUTES):
                if a_start < b_end + shift and b_start + shift < a_end:
                    return True
    return False


def _problems(template: StackTemplate, properties: dict[str, Json]) -> Iterator[str]:
    backup, maintenance = (
        properties.get("PreferredBackupWindow"),
        properties.get("PreferredMaintenanceWindow"),
    )
    for name, window in (("backup", backup), ("maintenance", maintenance)):
        if isinstance(window, str) and window_minutes(window) < 30:
            yield f"the {name} window {window} is shorter than 30 minutes"
    if isinstance(backup, str) and isinstance(maintenance, str) and overlaps(backup, maintenance):
        yield f"backup window {backup} overlaps maintenance window {maintenance}"
    if int(properties.get("MonitoringInterval", 0)) > 0 and "MonitoringRoleArn" not in properties:
        yield "MonitoringInterval without MonitoringRoleArn"
    allocated, maximum = properties.get("AllocatedStorage"), properties.get("MaxAllocatedStorage")
    if allocated is not None and maximum is not None and int(maximum) < int(allocated) * 1.1:
        yield f"MaxAllocatedStorage {maximum} is not at least 10% above AllocatedStorage {allocated}"
    if properties.get("Engine") == "mysql":
        unknown = set(properties.get("EnableCloudwatchLogsExports", [])) - MYSQL_LOG_EXPORTS
        if unknown:
            yield f"MySQL cannot export the logs {sorted(unknown)}"
        group = template.resource(referenced_id(properties.get("DBParameterGroupName")) or "") or {}
        family = group.get("Properties", {}).get("Family")
        version = str(properties.get("EngineVersion", ""))
        major = ".".join(version.split(".")[:2])
        if family is not None and major and family != f"mysql{major}":
            yield f"parameter group family {family} does not match engine version {version}"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """RDS refuses a backup window that overlaps the maintenance window or is shorter than 30 minutes
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.BackupWindow.html),
    enhanced monitoring without its role
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html), a storage
    autoscaling ceiling less than 10% above the allocated storage
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html), log exports the
    engine does not have (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html)
    and a parameter group of another engine family
    (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html)."""
    for template in templates:
        for logical_id, instance in template.resources("AWS::RDS::DBInstance"):
            for problem in _problems(template, instance.get("Properties", {})):
                yield Violation(template.path, logical_id, problem)


RULE = DeployRule(
    "rds-instance-settings", "RDS windows, monitoring, storage, logs and parameter family", check
)
