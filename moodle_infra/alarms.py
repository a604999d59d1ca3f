"""CloudWatch alarms on every tier of the site, all notifying the environment's SNS topic."""

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from constructs import Construct

FIVE_MINUTES = Duration.minutes(5)
GIB = 1024**3

ERROR_RATE_PERCENT = 5
"""Share of requests answered 5xx (by Moodle or by the load balancer) that raises the alarm..."""
ERROR_RATE_MIN_REQUESTS = 5
"""...once a 5-minute period has at least this many requests: the browser canary alone sends more at
night (docs/JOURNEY.md), so a night-time outage counts, while a handful of requests is no rate."""
ERROR_RATE_PERIODS, ERROR_RATE_BREACHING_PERIODS = 3, 2
"""Two bad periods out of three: one error in a quiet period (one of five requests) is not an outage."""


def server_error_rate(alb: elbv2.IApplicationLoadBalancerMetrics) -> cloudwatch.MathExpression:
    """Percent of requests answered 5xx per 5 minutes; 0 while there are too few requests to tell."""
    return cloudwatch.MathExpression(
        expression=(
            f"IF(requests >= {ERROR_RATE_MIN_REQUESTS}, "
            "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
        ),
        using_metrics={
            "requests": alb.request_count(period=FIVE_MINUTES, statistic="Sum"),
            "target5xx": alb.http_code_target(
                elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=FIVE_MINUTES, statistic="Sum"
            ),
            "elb5xx": alb.http_code_elb(
                elbv2.HttpCodeElb.ELB_5XX_COUNT, period=FIVE_MINUTES, statistic="Sum"
            ),
        },
        label="5xx answers, % of requests",
        period=FIVE_MINUTES,
    )


@dataclass(frozen=True, kw_only=True)
class MonitoredResources:
    """The resources of one environment whose health is watched (alarms and dashboard alike)."""

    load_balancer: elbv2.ApplicationLoadBalancer
    target_group: elbv2.ApplicationTargetGroup
    service: ecs.FargateService
    cron_service: ecs.FargateService
    database: rds.DatabaseInstance
    database_storage_gib: int
    database_max_connections: int
    cache_node_ids: list[str]


def running_tasks(service: ecs.FargateService, period: Duration) -> cloudwatch.Metric:
    """Container Insights' count of a service's running tasks."""
    return cloudwatch.Metric(
        namespace="ECS/ContainerInsights",
        metric_name="RunningTaskCount",
        dimensions_map={"ClusterName": service.cluster.cluster_name, "ServiceName": service.service_name},
        period=period,
        statistic="Minimum",
    )


def cache_node_ids(replication_group_id: str, replicas: int) -> list[str]:
    """ElastiCache names a cluster-mode-disabled group's nodes ``<group>-001``, ``-002``, ..."""
    return [f"{replication_group_id}-{index:03d}" for index in range(1, replicas + 2)]


class Alarms(Construct):
    """Thresholds chosen to page on real trouble: sustained errors, saturation, lost capacity."""

    def __init__(
        self, scope: Construct, construct_id: str, *, resources: MonitoredResources, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = actions.SnsAction(topic)
        alb = resources.load_balancer.metrics
        targets = resources.target_group.metrics
        database = resources.database

        self._alarm(
            "ServerErrorRate",
            server_error_rate(alb),
            threshold=ERROR_RATE_PERCENT,
            evaluation_periods=ERROR_RATE_PERIODS,
            datapoints_to_alarm=ERROR_RATE_BREACHING_PERIODS,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description=(
                f"At least {ERROR_RATE_PERCENT}% of requests answered 5xx (by Moodle or by the load "
                f"balancer: no healthy task?) in {ERROR_RATE_BREACHING_PERIODS} of {ERROR_RATE_PERIODS} "
                f"5-minute periods with {ERROR_RATE_MIN_REQUESTS} requests or more"
            ),
        )
        self._alarm(
            "AlbLatency",
            alb.target_response_time(period=FIVE_MINUTES, statistic="p95"),
            threshold=3,
            evaluation_periods=3,
            description="95th percentile response time above 3 s for 15 minutes",
        )
        self._alarm(
            "UnhealthyTargets",
            targets.unhealthy_host_count(period=Duration.minutes(1), statistic="Maximum"),
            threshold=1,
            evaluation_periods=5,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            description="A web task has failed its health check for 5 minutes",
        )
        self._alarm(
            "ServiceCpu",
            resources.service.metric_cpu_utilization(period=FIVE_MINUTES),
            threshold=85,
            evaluation_periods=3,
            description="Web tasks above 85% CPU for 15 minutes (autoscaling at its maximum?)",
        )
        self._alarm(
            "ServiceMemory",
            resources.service.metric_memory_utilization(period=FIVE_MINUTES),
            threshold=85,
            evaluation_periods=3,
            description="Web tasks above 85% memory for 15 minutes",
        )
        self._alarm(
            "CronNotRunning",
            running_tasks(resources.cron_service, FIVE_MINUTES),
            threshold=1,
            evaluation_periods=3,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            description="No Moodle cron task for 15 minutes: no emails, backups or scheduled tasks run",
        )
        self._alarm(
            "DatabaseCpu",
            database.metric_cpu_utilization(period=FIVE_MINUTES),
            threshold=80,
            evaluation_periods=3,
            description="Database above 80% CPU for 15 minutes",
        )
        self._alarm(
            "DatabaseFreeStorage",
            database.metric_free_storage_space(period=FIVE_MINUTES),
            threshold=resources.database_storage_gib * GIB * 0.1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            description="Database has less than 10% of its allocated storage free",
        )
        self._alarm(
            "DatabaseConnections",
            database.metric_database_connections(period=FIVE_MINUTES),
            threshold=round(resources.database_max_connections * 0.8),
            evaluation_periods=3,
            description="Database connections above 80% of its estimated maximum",
        )
        for node_id in resources.cache_node_ids:
            self._cache_alarms(node_id)

    def _cache_alarms(self, node_id: str) -> None:
        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/ElastiCache",
                metric_name=name,
                dimensions_map={"CacheClusterId": node_id},
                period=FIVE_MINUTES,
                statistic=statistic,
            )

        suffix = node_id.rsplit("-", 1)[-1]
        self._alarm(
            f"CacheCpu{suffix}",
            metric("EngineCPUUtilization", "Average"),
            threshold=80,
            evaluation_periods=3,
            description=f"Redis node {suffix} above 80% engine CPU for 15 minutes",
        )
        self._alarm(
            f"CacheMemory{suffix}",
            metric("DatabaseMemoryUsagePercentage", "Average"),
            threshold=85,
            evaluation_periods=3,
            description=f"Redis node {suffix} above 85% memory: sessions are about to be evicted",
        )
        self._alarm(
            f"CacheEvictions{suffix}",
            metric("Evictions", "Sum"),
            threshold=100,
            description=f"Redis node {suffix} evicted more than 100 keys in 5 minutes (users lose sessions)",
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=treat_missing_data,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
