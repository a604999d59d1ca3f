"""Moodle itself: the ECS workloads, the internal ALB, CloudFront, alarms and the dashboard."""

import itertools
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from moodle_infra import image_contract
from moodle_infra.alarms import Alarms, MonitoredResources, cache_node_ids
from moodle_infra.browser_canary.construct import BrowserCanary
from moodle_infra.cache import CACHE_PORT
from moodle_infra.config import EnvironmentConfig
from moodle_infra.cron_service import CronService
from moodle_infra.dashboard import Dashboard
from moodle_infra.database import DATABASE_PORT, estimated_max_connections
from moodle_infra.domain import certificate, hosted_zone
from moodle_infra.edge import Edge
from moodle_infra.install_upgrade.construct import InstallOrUpgrade
from moodle_infra.load_balancer import LoadBalancer
from moodle_infra.monitoring_user import MonitoringUser
from moodle_infra.moodle_image import MoodleImage, container_image
from moodle_infra.moodle_settings import moodle_settings
from moodle_infra.moodle_task import MoodleRuntime
from moodle_infra.retention import log_retention
from moodle_infra.stacks.data_stack import DataStack
from moodle_infra.stacks.edge_security_stack import EdgeSecurityStack
from moodle_infra.web_service import WebService


class ApplicationStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        image: MoodleImage,
        vpc: ec2.IVpc,
        data: DataStack,
        edge_security: EdgeSecurityStack,
        access_logs: s3.IBucket,
        topic: sns.ITopic,
        pipeline_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, cross_region_references=True, **kwargs)
        domain = config.custom_domain
        zone = hosted_zone(self, domain)

        load_balancer = LoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            certificate=certificate(
                self,
                "OriginCertificate",
                domain,
                zone=zone,
                existing_arn=domain.alb_certificate_arn if domain else None,
            ),
            access_logs=access_logs,
            deletion_protection=config.deletion_protection,
        )
        edge = Edge(
            self,
            "Edge",
            load_balancer=load_balancer,
            web_acl_arn=edge_security.web_acl.attr_arn,
            access_logs=access_logs,
            domain_name=domain.domain_name if domain else None,
            certificate=edge_security.certificate,
            hosted_zone=zone,
        )

        database = data.database.instance
        monitoring_user = (
            MonitoringUser(self, "MonitoringUser", config=config.canary) if config.canary.enabled else None
        )
        runtime = MoodleRuntime(
            image=container_image(self, image),
            settings=moodle_settings(
                self,
                wwwroot=f"https://{edge.domain_name}",
                site=config.moodle,
                database_host=database.db_instance_endpoint_address,
                database_port=database.db_instance_endpoint_port,
                database_name=data.database.database_name,
                database_secret=data.database.secret,
                redis_host=data.cache.endpoint_address,
                redis_port=str(data.cache.port),
                redis_auth_token=data.cache.auth_token,
                admin_password=data.site_admin.password,
                monitoring_user=monitoring_user,
            ),
            file_system=data.file_system.file_system,
            access_point=data.file_system.access_point,
            log_retention=log_retention(config.log_retention_days),
        )
        self.runtime = runtime

        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED
        )
        install = InstallOrUpgrade(
            self,
            "InstallOrUpgrade",
            cluster=self.cluster,
            runtime=runtime,
            environment_name=config.name,
            database=database,
            snapshots=config.upgrade_snapshots,
            upgrade=config.upgrade,
            topic=topic,
        )
        web = WebService(
            self, "Web", cluster=self.cluster, runtime=runtime, config=config.web, load_balancer=load_balancer
        )
        cron = CronService(self, "Cron", cluster=self.cluster, runtime=runtime, config=config.cron)
        self.web_service = web.service
        # Ingress rules on the data tier's security groups, created in this stack (remote_rule) so that
        # the data stack never refers back to it, with literal ports so that rule checkers can read them.
        # The tasks' own groups allow all outbound traffic (Moodle fetches feeds, updates and LTI tools
        # from anywhere), so they need no egress rule of their own.
        data_tier = (
            (data.database.instance.connections, DATABASE_PORT),
            (data.cache.connections, CACHE_PORT),
            (data.file_system.file_system.connections, efs.FileSystem.DEFAULT_PORT),
        )
        for workload, connections in (
            ("web", web.service.connections),
            ("install-or-upgrade", install.connections),
            ("cron", cron.service.connections),
        ):
            for peer, port in data_tier:
                for peer_group, task_group in itertools.product(
                    peer.security_groups, connections.security_groups
                ):
                    peer_group.add_ingress_rule(
                        task_group, ec2.Port.tcp(port), f"Moodle {workload} tasks", remote_rule=True
                    )
        for service in (web.service, cron.service):
            service.node.add_dependency(install.ready)
        install.finish_after(web.service)
        # Moodle's cron exits at once while the maintenance page is up: a cron rollout during it could
        # never become stable. So cron rolls out once finish has lifted the page.
        cron.service.node.add_dependency(install.finish)

        resources = MonitoredResources(
            load_balancer=load_balancer.load_balancer,
            target_group=web.target_group,
            service=web.service,
            cron_service=cron.service,
            database=database,
            database_storage_gib=config.database.allocated_storage_gib,
            database_max_connections=estimated_max_connections(config.database.instance_type),
            cache_node_ids=cache_node_ids(data.cache.replication_group.ref, config.cache.replicas),
        )
        Alarms(self, "Alarms", resources=resources, topic=topic)
        Dashboard(self, "Dashboard", resources=resources, name=f"moodle-{config.name}")
        self.canary: BrowserCanary | None = None
        if monitoring_user is not None:
            self.canary = BrowserCanary(
                self,
                "BrowserCanary",
                config=config.canary,
                environment_name=config.name,
                site_url=f"https://{edge.domain_name}",
                password=monitoring_user.password,
                topic=topic,
                access_logs=access_logs,
                pipeline_account=pipeline_account,
            )
            monitoring_user.readable_only_by(
                self.canary.role, install.task.task_definition.obtain_execution_role()
            )

        self.site_url = CfnOutput(self, "SiteUrl", value=f"https://{edge.domain_name}", description="Moodle")
        self.health_path = CfnOutput(
            self,
            "HealthPath",
            value=image_contract.HEALTH_CHECK_PATH,
            description="Health endpoint of the web tasks",
        )
        self.origin_dns_name = CfnOutput(
            self,
            "OriginDnsName",
            value=load_balancer.load_balancer.load_balancer_dns_name,
            description="Internal ALB: must resolve to private addresses only",
        )
        CfnOutput(self, "DistributionId", value=edge.distribution.distribution_id)
        self.moodle_release = CfnOutput(
            self,
            "MoodleRelease",
            value=install.finish.get_att_string("Release"),
            description="Moodle release in the site's database after this deploy's install-or-upgrade",
        )
