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

from compliance.acknowledgments import acknowledge, skip_checkov, wildcard_resource_finding
from compliance.cdk_internals import acknowledge_deploy_time_lambda
from moodle_infra import image_contract
from moodle_infra.keys import logs_key
from moodle_infra.managed_policy_role import ManagedPolicyRole
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

        start_resources = [
            stack.format_arn(
                service="ecs", resource="task-definition", resource_name=f"{task_definition.family}:*"
            )
        ]
        start = self._function(
            "Start", code=code, handler="handler.on_event", log_retention=runtime.log_retention
        )
        start.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                # Every revision of this one family: the revision changes with each image.
                resources=start_resources,
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

        check_resources = [
            stack.format_arn(service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*")
        ]
        check = self._function(
            "Check", code=code, handler="handler.is_complete", log_retention=runtime.log_retention
        )
        check.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ecs:DescribeTasks"],
                # Task IDs are only known at run time: any task of this cluster.
                resources=check_resources,
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )

        provider_logs = self._log_group("ProviderLogs", runtime.log_retention)
        on_event_role = self._role("ProviderOnEventRole", provider_logs)
        complete_and_timeout_role = self._role("ProviderCompleteAndTimeoutRole", provider_logs)
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=start,
            is_complete_handler=check,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
            log_group=provider_logs,
            framework_on_event_role=on_event_role,
            framework_complete_and_timeout_role=complete_and_timeout_role,
        )
        self._acknowledge(
            start=start,
            check=check,
            provider=provider,
            framework_roles=(on_event_role, complete_and_timeout_role),
            task_definition_family=start_resources[0],
            tasks=check_resources[0],
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
        log_group = self._log_group(f"{construct_id}Logs", log_retention)
        return lambda_.Function(
            self,
            construct_id,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=code,
            handler=handler,
            timeout=Duration.minutes(1),
            log_group=log_group,
            role=self._role(f"{construct_id}Role", log_group),
        )

    def _role(self, construct_id: str, log_group: logs.ILogGroup) -> iam.IRole:
        """A Lambda role that may write to its own log group, and whatever is granted to it later."""
        role = ManagedPolicyRole(self, construct_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        return role

    def _log_group(self, construct_id: str, retention: logs.RetentionDays) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
            encryption_key=logs_key(self),
        )

    def _acknowledge(
        self,
        *,
        start: lambda_.Function,
        check: lambda_.Function,
        provider: cr.Provider,
        framework_roles: tuple[iam.IRole, ...],
        task_definition_family: str,
        tasks: str,
    ) -> None:
        acknowledge(
            start.role,  # type: ignore[arg-type]
            wildcard_resource_finding(self, task_definition_family),
            "ecs:RunTask on every revision of the install-or-upgrade task definition family: each image "
            "makes a new revision, and the statement is also limited to this cluster",
        )
        acknowledge(
            check.role,  # type: ignore[arg-type]
            wildcard_resource_finding(self, tasks),
            "ecs:DescribeTasks on the tasks of this cluster: task IDs exist only once the task runs",
        )
        # CDK's provider framework invokes the handlers by ARN and by any version or alias (ARN:*).
        for role in framework_roles:
            for function in (start, check):
                acknowledge(
                    role,
                    wildcard_resource_finding(self, f"{function.function_arn}:*"),
                    "CDK's custom resource provider framework may invoke the install-or-upgrade handler "
                    "functions, any version of them (ARN:*), and nothing else",
                )
        framework = [provider.node.find_child(name) for name in FRAMEWORK_FUNCTIONS]
        for handler in (start, check, *framework):
            acknowledge_deploy_time_lambda(handler)
        for framework_function in framework:
            skip_checkov(
                framework_function,
                "CKV_AWS_173",
                "The provider framework's environment holds only the ARNs of the handler functions, "
                "nothing secret; Lambda encrypts it at rest with its own key",
            )
            skip_checkov(
                framework_function,
                "CKV_AWS_45",
                "False positive: the provider framework's environment holds only the ARNs of the "
                "handler functions",
            )
        waiter = provider.node.find_child("waiter-state-machine")
        acknowledge(
            waiter,
            "AwsSolutions-SF1",
            "The waiter state machine only calls the check function every 15 seconds, and that function "
            "and the framework log every step to their own log groups; logging the state machine would "
            "need CloudWatch Logs delivery permissions on every resource",
        )
        acknowledge(
            waiter,
            "AwsSolutions-SF2",
            "CDK's provider framework creates this state machine without a tracing option; it only polls "
            "the check function every 15 seconds, and the functions it calls log every step",
        )
        waiter_role = waiter.node.find_child("Role")
        acknowledge(
            waiter_role,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's provider framework creates the waiter state machine's role and writes its permissions "
            "inline (invoke the framework's own functions); the role cannot be passed in",
        )
        for name in ("framework-isComplete", "framework-onTimeout"):
            acknowledge(
                waiter_role,
                wildcard_resource_finding(self, f"{provider.node.find_child(name).function_arn}:*"),  # type: ignore[attr-defined]
                "The waiter state machine may invoke the provider framework's own functions, any "
                "version of them (ARN:*), and nothing else",
            )


FRAMEWORK_FUNCTIONS = ("framework-onEvent", "framework-isComplete", "framework-onTimeout")
"""The Lambdas CDK's provider framework creates below the Provider construct."""
