"""Runs the image's install-or-upgrade command as a one-off ECS task before every rollout (decision 6)."""

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from moodle_infra import image_contract
from moodle_infra.moodle_task import CONTAINER_NAME, MoodleRuntime, MoodleTaskDefinition
from moodle_infra.network import PRIVATE_SUBNETS

HANDLER_DIRECTORY = Path(__file__).resolve().parent

TASK_CPU = 1024
TASK_MEMORY_MIB = 2048
"""The task runs for minutes per deploy, so generous sizing shortens a first install and costs cents."""

QUERY_INTERVAL = Duration.seconds(15)
TOTAL_TIMEOUT = Duration.minutes(55)
"""A first install takes several minutes. CloudFormation waits at most an hour for a custom resource,
so the provider gives up a little earlier, with a clear "Operation timed out"."""


class InstallOrUpgrade(Construct):
    """A custom resource whose every Create and Update runs install-or-upgrade and waits for exit code 0.

    Its properties include the task definition ARN and the image: a new image makes a new task
    definition revision, hence an Update and a new run. Workloads that must start only on an installed,
    upgraded site depend on ``resource``; the task reaches the database, Redis and EFS through
    ``connections``.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster: ecs.ICluster, runtime: MoodleRuntime
    ) -> None:
        super().__init__(scope, construct_id)
        self.task = MoodleTaskDefinition(
            self,
            "Task",
            runtime=runtime,
            command=image_contract.COMMAND_INSTALL_OR_UPGRADE,
            cpu=TASK_CPU,
            memory_mib=TASK_MEMORY_MIB,
            installs=True,
        )
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=cluster.vpc, description="Moodle install-or-upgrade task"
        )
        self.connections = self.security_group.connections
        task_definition = self.task.task_definition
        stack = Stack.of(self)
        # Only handler.py is deployed: it needs nothing but the standard library and the runtime's boto3.
        code = lambda_.Code.from_asset(str(HANDLER_DIRECTORY), exclude=["*", "!handler.py"])

        start = self._function(
            "Start", code=code, handler="handler.on_event", log_retention=runtime.log_retention
        )
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                # Every revision of this one family: the revision changes with each image.
                resources=[
                    stack.format_arn(
                        service="ecs", resource="task-definition", resource_name=f"{task_definition.family}:*"
                    )
                ],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[
                    task_definition.task_role.role_arn,
                    task_definition.obtain_execution_role().role_arn,
                ],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        start.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id])
        )

        check = self._function(
            "Check", code=code, handler="handler.is_complete", log_retention=runtime.log_retention
        )
        check.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                # Task IDs are only known at run time: any task of this cluster.
                resources=[
                    stack.format_arn(
                        service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*"
                    )
                ],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )

        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=start,
            is_complete_handler=check,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
            log_group=self._log_group("ProviderLogs", runtime.log_retention),
        )
        log_options = self.task.container.log_driver_config
        assert log_options is not None and log_options.options is not None, (
            "the Moodle task logs to CloudWatch"
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::MoodleInstallOrUpgrade",
            properties={
                "Cluster": cluster.cluster_arn,
                "TaskDefinition": task_definition.task_definition_arn,
                "Image": self.task.container.image_name,
                "ContainerName": CONTAINER_NAME,
                "Subnets": cluster.vpc.select_subnets(subnet_type=PRIVATE_SUBNETS.subnet_type).subnet_ids,
                "SecurityGroups": [self.security_group.security_group_id],
                "LogGroup": log_options.options["awslogs-group"],
                "LogStreamPrefix": log_options.options["awslogs-stream-prefix"],
            },
        )
        # The roles' policies and the security group's rules (to the database, Redis and EFS) must be
        # in place before the task starts, or its first run fails for want of access.
        self.resource.node.add_dependency(
            task_definition.task_role, task_definition.obtain_execution_role(), self.security_group
        )

    def _function(
        self, construct_id: str, *, code: lambda_.Code, handler: str, log_retention: logs.RetentionDays
    ) -> lambda_.Function:
        return lambda_.Function(
            self,
            construct_id,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=handler,
            timeout=Duration.minutes(1),
            log_group=self._log_group(f"{construct_id}Logs", log_retention),
        )

    def _log_group(self, construct_id: str, retention: logs.RetentionDays) -> logs.LogGroup:
        return logs.LogGroup(self, construct_id, retention=retention, removal_policy=RemovalPolicy.DESTROY)
