"""The Step Functions workflow that follows one install-or-upgrade run for as long as it takes.

A custom resource may keep CloudFormation waiting for one hour at most; an upgrade of a big site can take
longer. So the custom resource only starts the plan task and this workflow, which polls the handler's
``workflow`` entry every 30 seconds (plan, snapshot, upgrade: handler.install_or_upgrade) and signals the
deploy's wait condition (rollout_gate.py) when the run ends, fails, or runs out of time. A standard
workflow runs for up to a year and costs a state transition per step: about 3,000 transitions, a few cents,
for an eight-hour upgrade, and nothing while no deploy runs.
"""

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from compliance.acknowledgments import acknowledge, wildcard_resource_finding
from moodle_infra.managed_policy_role import ManagedPolicyRole

POLL_INTERVAL = Duration.seconds(30)
OWN_MARGIN = Duration.minutes(15)
"""The workflow's own time limit is the upgrade's plus this: the handler gives up first, with a reason."""


class UpgradeWorkflow(Construct):
    """Wait -> advance -> signalled? (else wait again); if advance keeps failing, abort (stop the run's
    tasks, signal the failure) and fail."""

    def __init__(
        self, scope: Construct, construct_id: str, *, function: lambda_.IFunction, upgrade_timeout: Duration
    ) -> None:
        super().__init__(scope, construct_id)
        wait = sfn.Wait(self, "Wait", time=sfn.WaitTime.duration(POLL_INTERVAL))
        advance = tasks.LambdaInvoke(self, "Advance", lambda_function=function, payload_response_only=True)
        # Throttling and transient errors of the handler's own AWS calls: the next poll would do the same.
        advance.add_retry(
            errors=["States.TaskFailed"], interval=POLL_INTERVAL, max_attempts=3, backoff_rate=2
        )
        abort = tasks.LambdaInvoke(self, "Abort", lambda_function=function, payload_response_only=True)
        advance.add_catch(abort, result_path="$.Failure")
        abort.next(sfn.Fail(self, "Aborted", error="InstallOrUpgradeAborted"))
        signalled = sfn.Choice(self, "Signalled")
        signalled.when(sfn.Condition.boolean_equals("$.Done", True), sfn.Succeed(self, "Done"))
        signalled.otherwise(wait)
        wait.next(advance)
        advance.next(signalled)
        role = ManagedPolicyRole(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(wait),
            timeout=upgrade_timeout.plus(OWN_MARGIN),
            role=role,
        )
        acknowledge(
            role,
            wildcard_resource_finding(self, f"{function.function_arn}:*"),
            "The workflow may invoke its one handler function, any version of it (ARN:*), and nothing else",
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-SF1",
            "The workflow only polls the install-or-upgrade handler every 30 seconds; the handler logs "
            "every poll, what it started and the signal it sent to its own log group",
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-SF2",
            "A loop of one Lambda call every 30 seconds has nothing for X-Ray to trace that the handler's "
            "log does not show",
        )
