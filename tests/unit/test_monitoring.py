"""Audit trail, notifications, alarms and dashboard."""

from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.conftest import TemplateOf


def test_trail_is_multi_region_validated_and_encrypted(template: TemplateOf) -> None:
    template("prod", "Audit").has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsMultiRegionTrail": True,
            "EnableLogFileValidation": True,
            "IncludeGlobalServiceEvents": True,
            "KMSKeyId": Match.any_value(),
            "CloudWatchLogsLogGroupArn": Match.any_value(),
        },
    )


def test_trail_bucket_is_encrypted_versioned_ssl_only_with_lifecycle(template: TemplateOf) -> None:
    audit = template("prod", "Audit")
    bucket = audit.find_resources(
        "AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}
    )
    trail_bucket = next(b for b in bucket.values() if "KMSMasterKeyID" in str(b["Properties"]))
    rules = trail_bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rules[0]["Transitions"][0]["StorageClass"] == "GLACIER"
    assert trail_bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    audit.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                            )
                        ]
                    )
                }
            )
        },
    )


def test_notifications_topic_is_encrypted_with_a_rotated_key(template: TemplateOf) -> None:
    audit = template("prod", "Audit")
    audit.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    audit.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_alarm_email_is_subscribed_only_when_configured(template: TemplateOf) -> None:
    template("dev", "Audit").resource_count_is("AWS::SNS::Subscription", 0)


EXPECTED_ALARMS = {
    "AlbLatency": "TargetResponseTime",
    "UnhealthyTargets": "UnHealthyHostCount",
    "ServiceCpu": "CPUUtilization",
    "ServiceMemory": "MemoryUtilization",
    "CronNotRunning": "RunningTaskCount",
    "DatabaseCpu": "CPUUtilization",
    "DatabaseFreeStorage": "FreeStorageSpace",
    "DatabaseConnections": "DatabaseConnections",
    "CacheCpu001": "EngineCPUUtilization",
    "CacheMemory001": "DatabaseMemoryUsagePercentage",
    "CacheEvictions001": "Evictions",
}


def _alarms(template: TemplateOf, environment: str) -> dict[str, Any]:
    return dict(template(environment, "Application").find_resources("AWS::CloudWatch::Alarm"))


def _metric_names(alarm: dict[str, Any]) -> set[str | None]:
    """The metrics an alarm watches: its own, or those of its metric math."""
    metrics = alarm.get("Metrics", [])
    return {alarm.get("MetricName")} | {
        m["MetricStat"]["Metric"]["MetricName"] for m in metrics if "MetricStat" in m
    }


def _error_rate_alarm(template: TemplateOf, environment: str) -> dict[str, Any]:
    alarms = _alarms(template, environment)
    return next(a["Properties"] for lid, a in alarms.items() if lid.startswith("AlarmsServerErrorRate"))


def test_the_5xx_alarm_is_a_rate_over_a_minimum_request_count(template: TemplateOf) -> None:
    alarm = _error_rate_alarm(template, "prod")
    metrics = {m["Id"]: m for m in alarm["Metrics"]}

    expression = metrics.pop("expr_1")["Expression"]
    assert expression == "IF(requests >= 5, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
    assert {id: m["MetricStat"]["Metric"]["MetricName"] for id, m in metrics.items()} == {
        "requests": "RequestCount",
        "target5xx": "HTTPCode_Target_5XX_Count",
        "elb5xx": "HTTPCode_ELB_5XX_Count",
    }
    assert {m["MetricStat"]["Stat"] for m in metrics.values()} == {"Sum"}
    assert not any(m.get("ReturnData", False) for m in metrics.values())
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2), (
        "one bad quiet period is no outage"
    )


@pytest.mark.parametrize(("name", "metric"), EXPECTED_ALARMS.items())
def test_alarm_exists_on_its_metric(template: TemplateOf, name: str, metric: str) -> None:
    matching = [
        a for logical_id, a in _alarms(template, "prod").items() if logical_id.startswith(f"Alarms{name}")
    ]
    assert len(matching) == 1, f"alarm {name} missing"
    assert matching[0]["Properties"]["MetricName"] == metric


def test_a_stopped_cron_alarms_even_without_data(template: TemplateOf) -> None:
    alarm = next(
        a["Properties"]
        for logical_id, a in _alarms(template, "prod").items()
        if logical_id.startswith("AlarmsCron")
    )
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["TreatMissingData"] == "breaching", "a cron that never started reports no data at all"
    assert "CronService" in str(alarm["Dimensions"])


def test_every_replica_of_the_cache_is_watched(template: TemplateOf) -> None:
    prod = [logical_id for logical_id in _alarms(template, "prod") if logical_id.startswith("AlarmsCacheCpu")]
    dev = [logical_id for logical_id in _alarms(template, "dev") if logical_id.startswith("AlarmsCacheCpu")]
    assert (len(dev), len(prod)) == (1, 2)


def test_every_alarm_notifies_the_topic(template: TemplateOf) -> None:
    for logical_id, alarm in _alarms(template, "prod").items():
        actions = alarm["Properties"]["AlarmActions"]
        assert len(actions) == 1 and "Fn::ImportValue" in actions[0], f"{logical_id} notifies nobody"
        assert "NotificationsTopic" in str(actions[0])


def test_dashboard_shows_every_tier(template: TemplateOf) -> None:
    dashboards = template("prod", "Application").find_resources("AWS::CloudWatch::Dashboard")
    body = str(next(iter(dashboards.values()))["Properties"]["DashboardBody"])
    for metric in (
        "RequestCount",
        "TargetResponseTime",
        "CPUUtilization",
        "DatabaseConnections",
        "Evictions",
    ):
        assert metric in body


FAILURES_HEALTH_CHECKS_LEAVE_TO_ALARMS = {
    # Pages fail (500 or 503) while /healthz, answered by php-fpm alone, stays green (docs/IMAGE.md).
    "database unreachable": "HTTPCode_Target_5XX_Count",
    "Redis unreachable or hanging": "HTTPCode_Target_5XX_Count",
    "data directory read-only after the start": "HTTPCode_Target_5XX_Count",
    # Every task failing its health check: the load balancer answers itself.
    "no healthy web task": "HTTPCode_ELB_5XX_Count",
}


@pytest.mark.parametrize(("failure", "metric"), FAILURES_HEALTH_CHECKS_LEAVE_TO_ALARMS.items())
def test_failures_the_health_checks_ignore_raise_an_alarm_on_the_topic(
    template: TemplateOf, failure: str, metric: str
) -> None:
    for environment in ("dev", "prod"):
        alarms = [a["Properties"] for a in _alarms(template, environment).values()]
        watching = [a for a in alarms if metric in _metric_names(a)]
        assert watching, f"{environment}: nothing alarms on {failure}"
        assert all("NotificationsTopic" in str(a["AlarmActions"]) for a in watching), failure
