"""One task-definition shape for every Moodle workload: web, cron and install-or-upgrade."""

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from compliance.acknowledgments import acknowledge
from moodle_infra import image_contract
from moodle_infra.keys import logs_key
from moodle_infra.managed_policy_role import ManagedPolicyRole
from moodle_infra.moodle_settings import MoodleSettings
from moodle_infra.network import PRIVATE_SUBNETS

CONTAINER_NAME = "moodle"
SHARED_DATA_VOLUME = "moodledata"
ECS_TASKS = iam.ServicePrincipal("ecs-tasks.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class MoodleRuntime:
    """What all Moodle containers of an environment share: image, settings and the shared data."""

    image: ecs.ContainerImage
    settings: MoodleSettings
    file_system: efs.IFileSystem
    access_point: efs.IAccessPoint
    log_retention: logs.RetentionDays


class MoodleTaskDefinition(Construct):
    """A Fargate task running the image with one of its commands, with moodledata mounted over TLS
    through the access point and IAM authorization."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: MoodleRuntime,
        command: str,
        cpu: int,
        memory_mib: int,
        serves_http: bool = False,
        installs: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=ManagedPolicyRole(self, "TaskRole", assumed_by=ECS_TASKS),
            execution_role=ManagedPolicyRole(self, "ExecutionRole", assumed_by=ECS_TASKS),
            runtime_platform=ecs.RuntimePlatform(
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
                cpu_architecture=ecs.CpuArchitecture.X86_64,
            ),
            volumes=[
                ecs.Volume(
                    name=SHARED_DATA_VOLUME,
                    efs_volume_configuration=ecs.EfsVolumeConfiguration(
                        file_system_id=runtime.file_system.file_system_id,
                        transit_encryption="ENABLED",
                        authorization_config=ecs.AuthorizationConfig(
                            access_point_id=runtime.access_point.access_point_id, iam="ENABLED"
                        ),
                    ),
                )
            ],
        )
        runtime.file_system.grant(
            self.task_definition.task_role, "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=runtime.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
            encryption_key=logs_key(self),
        )
        secrets = dict(runtime.settings.secrets)
        environment = dict(runtime.settings.environment)
        if installs:
            secrets |= runtime.settings.install_secrets
            environment |= runtime.settings.install_environment
        self.container = self.task_definition.add_container(
            CONTAINER_NAME,
            image=runtime.image,
            command=[command],
            environment=environment,
            secrets=secrets,
            logging=ecs.LogDriver.aws_logs(stream_prefix=command, log_group=log_group),
            port_mappings=[ecs.PortMapping(container_port=image_contract.CONTAINER_PORT)]
            if serves_http
            else None,
            stop_timeout=Duration.seconds(30),
            essential=True,
        )
        self.container.add_mount_points(
            ecs.MountPoint(
                container_path=image_contract.SHARED_DATA_PATH,
                source_volume=SHARED_DATA_VOLUME,
                read_only=False,
            )
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment variables are Moodle's non-secret settings (host names, ports, site names); "
            "every password and token reaches the container as an ECS secret from Secrets Manager",
        )
        acknowledge(
            self.task_definition.obtain_execution_role(),
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, which the execution role needs to pull the image, has no "
            "resource-level permissions; every other statement names its repository, log group or secret",
        )


def moodle_service(
    scope: Construct,
    *,
    cluster: ecs.ICluster,
    task: MoodleTaskDefinition,
    desired_count: int | None,
    min_healthy_percent: int,
    max_healthy_percent: int,
    health_check_grace_period: Duration | None = None,
) -> ecs.FargateService:
    """A long-running Moodle workload: private subnets without public IPs, and a circuit breaker that
    rolls back a release whose tasks never reach a steady state. ``desired_count`` None leaves the
    count to autoscaling (CloudFormation then omits DesiredCount)."""
    return ecs.FargateService(
        scope,
        "Service",
        cluster=cluster,
        task_definition=task.task_definition,
        desired_count=desired_count,
        min_healthy_percent=min_healthy_percent,
        max_healthy_percent=max_healthy_percent,
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        vpc_subnets=PRIVATE_SUBNETS,
        assign_public_ip=False,
        health_check_grace_period=health_check_grace_period,
        platform_version=ecs.FargatePlatformVersion.LATEST,
        propagate_tags=ecs.PropagatedTagSource.SERVICE,
    )
