"""Runs the image's install-or-upgrade command as one-off ECS tasks around every rollout (decision 6).

Before the web service rolls out: plan, a database snapshot when Moodle's version changes, the upgrade
behind Moodle's maintenance page, for as long as it takes (up to ``upgrade.timeout_minutes``, 12 hours at
most): a custom resource starts the run and a workflow follows it and signals a wait condition, on which
the web service waits. After the rollout: finish, which lifts the page. docs/UPGRADES.md explains why.
"""

from pathlib import Path
from typing import Any, cast

from aws_cdk import ArnFormat, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr
from constructs import Construct

from compliance.acknowledgments import acknowledge, skip_checkov, wildcard_resource_finding
from compliance.cdk_internals import acknowledge_deploy_time_lambda
from moodle_infra import image_contract
from moodle_infra.config import UpgradeConfig, UpgradeSnapshotConfig
from moodle_infra.install_upgrade import handler as steps
from moodle_infra.install_upgrade.rollout_gate import RolloutGate
from moodle_infra.install_upgrade.workflow import UpgradeWorkflow
from moodle_infra.keys import logs_key
from moodle_infra.managed_policy_role import ManagedPolicyRole
from moodle_infra.moodle_task import CONTAINER_NAME, MoodleRuntime, MoodleTaskDefinition
from moodle_infra.network import PRIVATE_SUBNETS

HANDLER_DIRECTORY = Path(__file__).resolve().parent

TASK_CPU = 1024
TASK_MEMORY_MIB = 2048
"""The task runs for minutes per deploy, so generous sizing shortens a first install and costs cents."""

QUERY_INTERVAL = Duration.seconds(15)
STEP_TIMEOUT = Duration.minutes(30)
"""finish and hold: Fargate start-up and a few seconds of work. The provider gives up after this, with a
clear "Operation timed out"; the long install-or-upgrade step is the workflow's (UPGRADE_MARGIN)."""
SERVICE_TIMEOUT = STEP_TIMEOUT.plus(Duration.minutes(15))
"""How long CloudFormation waits for either custom resource's answer (at most an hour): the provider
framework's onEvent function (it may run 15 minutes) and then its STEP_TIMEOUT of polling, so the
provider's message, not CloudFormation's, says what happened (rule custom-resource-time-limits)."""
UPGRADE_MARGIN = Duration.minutes(30)
"""The wait condition waits this much longer than ``upgrade.timeout_minutes``: the workflow stops the task
and signals its reason before CloudFormation's own timeout, which would say nothing useful."""
FUNCTION_TIMEOUT = Duration.minutes(1)


MAINTENANCE_METRIC = "UpgradeMaintenanceLeftOn"


class InstallOrUpgrade(Construct):
    """Two custom resources whose every Create and Update runs steps of install-or-upgrade as ECS tasks.

    Their properties include the task definition ARN and the image: a new image makes a new task
    definition revision, hence an Update and a new run. Workloads that must start only on an installed,
    upgraded site depend on ``ready`` (the run's wait condition); ``finish_after`` makes the finish
    resource wait for them. The tasks reach the database, Redis and EFS through ``connections``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        runtime: MoodleRuntime,
        environment_name: str,
        database: rds.IDatabaseInstance,
        snapshots: UpgradeSnapshotConfig,
        upgrade: UpgradeConfig,
        topic: sns.ITopic,
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
        log_retention = runtime.log_retention
        start = self._function("Start", code=code, handler="handler.on_event", log_retention=log_retention)
        check = self._function("Check", code=code, handler="handler.is_complete", log_retention=log_retention)
        follow = self._function("Advance", code=code, handler="handler.workflow", log_retention=log_retention)
        upgrade_timeout = Duration.minutes(upgrade.timeout_minutes)
        workflow = UpgradeWorkflow(self, "Workflow", function=follow, upgrade_timeout=upgrade_timeout)
        state_machine = workflow.state_machine

        family = stack.format_arn(
            service="ecs", resource="task-definition", resource_name=f"{task_definition.family}:*"
        )
        tasks = stack.format_arn(service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*")
        in_this_cluster = {"ArnEquals": {"ecs:cluster": cluster.cluster_arn}}
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        task_logs = self.task.node.find_child("Logs")
        assert isinstance(task_logs, logs.LogGroup), "MoodleTaskDefinition keeps its log group as Logs"
        log_streams = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{task_logs.log_group_name}:log-stream:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # Start runs plan and finish, Advance (the workflow's function) the upgrade; both stop what
        # they or an abandoned run left running.
        for function in (start, follow):
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["ecs:RunTask"],
                    # Every revision of this one family: the revision changes with each image.
                    resources=[family],
                    conditions=in_this_cluster,
                )
            )
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[
                        task_definition.task_role.role_arn,
                        task_definition.obtain_execution_role().role_arn,
                    ],
                    conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                )
            )
            function.add_to_role_policy(
                # ListTasks has no resource-level permissions; the condition keeps it to this cluster.
                iam.PolicyStatement(actions=["ecs:ListTasks"], resources=["*"], conditions=in_this_cluster)
            )
        for function, task_actions in (
            (start, ["ecs:DescribeTasks", "ecs:StopTask"]),
            (check, ["ecs:DescribeTasks"]),
            (follow, ["ecs:DescribeTasks", "ecs:StopTask"]),
        ):
            # Task IDs are only known at run time: any task of this cluster.
            function.add_to_role_policy(
                iam.PolicyStatement(actions=task_actions, resources=[tasks], conditions=in_this_cluster)
            )
        start.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id])
        )
        state_machine.grant_start_execution(start)
        for workflow_actions, resource in (
            (["states:ListExecutions"], state_machine.state_machine_arn),
            (["states:StopExecution"], executions),
        ):
            start.add_to_role_policy(iam.PolicyStatement(actions=workflow_actions, resources=[resource]))
        # The plan step's line, from the stream of that one task (its name is known only at run time).
        follow.add_to_role_policy(iam.PolicyStatement(actions=["logs:GetLogEvents"], resources=[log_streams]))
        snapshot_arns = self._grant_snapshots(follow, database=database, environment_name=environment_name)

        provider_logs = self._log_group("ProviderLogs", runtime.log_retention)
        on_event_role = self._role("ProviderOnEventRole", provider_logs)
        complete_and_timeout_role = self._role("ProviderCompleteAndTimeoutRole", provider_logs)
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=start,
            is_complete_handler=check,
            query_interval=QUERY_INTERVAL,
            total_timeout=STEP_TIMEOUT,
            log_group=provider_logs,
            framework_on_event_role=on_event_role,
            framework_complete_and_timeout_role=complete_and_timeout_role,
        )
        self._acknowledge(
            start=start,
            check=check,
            follow=follow,
            provider=provider,
            framework_roles=(on_event_role, complete_and_timeout_role),
            task_definition_family=family,
            tasks=tasks,
            executions=executions,
            log_streams=log_streams,
            snapshots=snapshot_arns,
        )
        log_options = self.task.container.log_driver_config
        assert log_options is not None and log_options.options is not None, (
            "the Moodle task logs to CloudWatch"
        )
        common = {
            "Cluster": cluster.cluster_arn,
            "TaskDefinition": task_definition.task_definition_arn,
            "Image": self.task.container.image_name,
            "ContainerName": CONTAINER_NAME,
            "Subnets": cluster.vpc.select_subnets(subnet_type=PRIVATE_SUBNETS.subnet_type).subnet_ids,
            "SecurityGroups": [self.security_group.security_group_id],
            "LogGroup": log_options.options["awslogs-group"],
            "LogStreamPrefix": log_options.options["awslogs-stream-prefix"],
        }
        run: dict[str, Any] = {
            **common,
            "Step": steps.INSTALL_OR_UPGRADE,
            # Strings, as CloudFormation hands every value to the handler.
            "Snapshot": {
                "Enabled": "true" if snapshots.enabled else "false",
                "DatabaseInstance": database.instance_identifier,
                "Environment": environment_name,
                "Keep": str(snapshots.keep),
                "TimeoutMinutes": str(snapshots.timeout_minutes),
            },
            "Family": task_definition.family,
            "Workflow": state_machine.state_machine_arn,
            "TimeoutMinutes": str(upgrade.timeout_minutes),
        }
        cfn_task_definition = cast(ecs.CfnTaskDefinition, task_definition.node.default_child)
        gate = RolloutGate(
            self,
            "Ready",
            timeout=upgrade_timeout.plus(UPGRADE_MARGIN),
            # What makes a new run: any change of the task definition or of the run's settings.
            run_inputs=lambda: {"TaskDefinition": cfn_task_definition._cfn_properties, "Run": run},
        )
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            service_timeout=SERVICE_TIMEOUT,
            resource_type="Custom::MoodleInstallOrUpgrade",
            properties={**run, "Handle": gate.handle.ref},
        )
        # The roles' policies and the security group's rules (to the database, Redis and EFS) must be
        # in place before the task starts, or its first run fails for want of access.
        self.resource.node.add_dependency(
            task_definition.task_role, task_definition.obtain_execution_role(), self.security_group
        )
        gate.condition.node.add_dependency(self.resource)
        self.ready = gate.condition
        # Runs once the web service has rolled out (finish_after). Upgrade (the run's signal) tells a
        # rollback of this resource whether the previous image would meet an upgraded schema.
        self.finish = CustomResource(
            self,
            "Finish",
            service_token=provider.service_token,
            service_timeout=SERVICE_TIMEOUT,
            resource_type="Custom::MoodleUpgradeFinish",
            properties={**common, "Step": steps.FINISH, "Upgrade": gate.condition.attr_data},
        )
        self._maintenance_alarm(
            topic,
            filters=[
                ("MaintenanceLeftOn", task_logs, steps.MAINTENANCE_LEFT_ON, "1"),
                ("MaintenanceLifted", task_logs, steps.MAINTENANCE_LIFTED, "0"),
                # An upgrade task stopped by a timeout or by a later deploy cannot log it itself.
                ("UpgradeStoppedByStart", start.log_group, steps.UPGRADE_TASK_STOPPED, "1"),
                ("UpgradeStoppedByAdvance", follow.log_group, steps.UPGRADE_TASK_STOPPED, "1"),
            ],
        )

    def finish_after(self, *workloads: Construct) -> None:
        """Lift the maintenance page only once these have rolled out: no web task of the old image is left."""
        self.finish.node.add_dependency(*workloads)

    def _grant_snapshots(
        self, function: lambda_.Function, *, database: rds.IDatabaseInstance, environment_name: str
    ) -> list[str]:
        """Create, list and delete this environment's upgrade snapshots of this one database."""
        stack = Stack.of(self)
        instance_arn = stack.format_arn(
            service="rds",
            resource="db",
            resource_name=database.instance_identifier,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        upgrade_snapshots = stack.format_arn(
            service="rds",
            resource="snapshot",
            resource_name=f"{steps.snapshot_prefix(environment_name)}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        any_snapshot = stack.format_arn(
            service="rds", resource="snapshot", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["rds:CreateDBSnapshot"], resources=[instance_arn, upgrade_snapshots])
        )
        function.add_to_role_policy(
            # CreateDBSnapshot with Tags needs AddTagsToResource on the new snapshot.
            iam.PolicyStatement(
                actions=["rds:AddTagsToResource", "rds:DeleteDBSnapshot"], resources=[upgrade_snapshots]
            )
        )
        function.add_to_role_policy(
            # Read-only: pruning lists the instance's manual snapshots and keeps only upgrade ones.
            iam.PolicyStatement(actions=["rds:DescribeDBSnapshots"], resources=[instance_arn, any_snapshot])
        )
        return [upgrade_snapshots, any_snapshot]

    def _maintenance_alarm(
        self, topic: sns.ITopic, *, filters: list[tuple[str, logs.ILogGroup, str, str]]
    ) -> None:
        """1 when a failed or stopped upgrade, a failed finish or a rollback leaves the maintenance page on,
        0 when finish lifts it; the alarm keeps its state between the two (missing data is ignored)."""
        metric_namespace = f"Moodle/{Stack.of(self).stack_name}"
        for construct_id, log_group, line, value in filters:
            logs.MetricFilter(
                self,
                construct_id,
                log_group=log_group,
                filter_pattern=logs.FilterPattern.literal(f'"{line}"'),
                metric_namespace=metric_namespace,
                metric_name=MAINTENANCE_METRIC,
                metric_value=value,
            )
        alarm = cloudwatch.Alarm(
            self,
            "MaintenanceAlarm",
            metric=cloudwatch.Metric(
                namespace=metric_namespace,
                metric_name=MAINTENANCE_METRIC,
                statistic="Maximum",
                period=Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
            alarm_description=(
                "An upgrade failed half-way or was rolled back: Moodle shows its maintenance page until "
                "an operator acts. Runbook: docs/UPGRADES.md"
            ),
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))

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
            timeout=FUNCTION_TIMEOUT,
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
        follow: lambda_.Function,
        provider: cr.Provider,
        framework_roles: tuple[iam.IRole, ...],
        task_definition_family: str,
        tasks: str,
        executions: str,
        log_streams: str,
        snapshots: list[str],
    ) -> None:
        run_task = {
            wildcard_resource_finding(self, task_definition_family): "ecs:RunTask on every revision of the "
            "install-or-upgrade task definition family: each image makes a new revision, and the statement "
            "is also limited to this cluster",
            "AwsSolutions-IAM5[Resource::*]": "ecs:ListTasks has no resource-level permissions; the "
            "statement's ecs:cluster condition limits it to this cluster",
        }
        task_ids = {
            wildcard_resource_finding(self, tasks): "ecs:DescribeTasks (and StopTask for the functions that "
            "start them) on the tasks of this cluster: task IDs exist only once the task runs",
        }
        findings = {
            start: {
                **run_task,
                **task_ids,
                wildcard_resource_finding(self, executions): "states:StopExecution on the executions of "
                "this stack's upgrade workflow only: a new deploy stops runs an abandoned deploy left",
            },
            check: task_ids,
            follow: {
                **run_task,
                **task_ids,
                wildcard_resource_finding(self, log_streams): "logs:GetLogEvents on the streams of the "
                "install-or-upgrade log group: each task writes its own stream, named after its ID",
                wildcard_resource_finding(self, snapshots[0]): "Create, tag and delete only snapshots named "
                "moodle-upgrade-<environment>-*, whose names hold the deploy's versions and task ID",
                wildcard_resource_finding(self, snapshots[1]): "rds:DescribeDBSnapshots (read-only) on any "
                "snapshot: pruning lists this instance's manual snapshots to find the old upgrade ones",
            },
        }
        for function, reasons in findings.items():
            for finding, reason in reasons.items():
                acknowledge(function.role, finding, reason)  # type: ignore[arg-type]
        acknowledge_deploy_time_lambda(follow)
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
