"""One CloudWatch dashboard per environment: traffic, errors, saturation of each tier."""

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from moodle_infra.alarms import MonitoredResources, running_tasks

PERIOD = Duration.minutes(5)


class Dashboard(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, resources: MonitoredResources, name: str
    ) -> None:
        super().__init__(scope, construct_id)
        alb = resources.load_balancer.metrics
        database = resources.database

        def cache(metric_name: str) -> list[cloudwatch.IMetric]:
            return [
                cloudwatch.Metric(
                    namespace="AWS/ElastiCache",
                    metric_name=metric_name,
                    dimensions_map={"CacheClusterId": node_id},
                    period=PERIOD,
                    label=node_id,
                )
                for node_id in resources.cache_node_ids
            ]

        widgets: list[tuple[str, list[cloudwatch.IMetric]]] = [
            ("Requests", [alb.request_count(period=PERIOD)]),
            (
                "Errors",
                [
                    alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=PERIOD),
                    alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=PERIOD),
                    alb.http_code_target(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, period=PERIOD),
                ],
            ),
            (
                "Response time",
                [
                    alb.target_response_time(period=PERIOD, statistic=statistic)
                    for statistic in ("p50", "p95", "p99")
                ],
            ),
            (
                "Web tasks",
                [
                    resources.target_group.metrics.healthy_host_count(period=PERIOD),
                    resources.target_group.metrics.unhealthy_host_count(period=PERIOD),
                ],
            ),
            (
                "Web CPU and memory (%)",
                [
                    resources.service.metric_cpu_utilization(period=PERIOD),
                    resources.service.metric_memory_utilization(period=PERIOD),
                ],
            ),
            (
                "Cron CPU and memory (%), running tasks",
                [
                    resources.cron_service.metric_cpu_utilization(period=PERIOD),
                    resources.cron_service.metric_memory_utilization(period=PERIOD),
                    running_tasks(resources.cron_service, PERIOD),
                ],
            ),
            ("Database CPU (%)", [database.metric_cpu_utilization(period=PERIOD)]),
            ("Database connections", [database.metric_database_connections(period=PERIOD)]),
            ("Database free storage", [database.metric_free_storage_space(period=PERIOD)]),
            ("Redis engine CPU (%)", cache("EngineCPUUtilization")),
            ("Redis memory (%)", cache("DatabaseMemoryUsagePercentage")),
            ("Redis evictions", cache("Evictions")),
        ]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name)
        self.dashboard.add_widgets(
            *(cloudwatch.GraphWidget(title=title, left=metrics, width=8) for title, metrics in widgets)
        )
