"""The wait condition the web and cron services wait on while install-or-upgrade runs (docs/UPGRADES.md).

CloudFormation waits up to 12 hours for a wait condition (a custom resource: one hour). A wait condition
cannot be updated, and a handle that was signalled once counts its old signal again, so every run gets a
new handle and a new wait condition: their logical IDs end in a digest of everything the run depends on
(the install-or-upgrade task definition and the custom resource's other properties). The same digest means
the same run: no new wait condition, no new run, and an unchanged image rolls nothing out.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any

import jsii
from aws_cdk import Aspects, CfnWaitCondition, CfnWaitConditionHandle, Duration, IAspect, Stack
from constructs import Construct, IConstruct

WAIT_CONDITION_LIMIT = Duration.hours(12)
"""The longest Timeout CloudFormation accepts for a wait condition (43,200 s)."""


class RolloutGate(Construct):
    """``condition`` completes when the run signals success through ``handle``, and fails its deploy with
    the run's own reason when it signals failure; ``run_inputs`` gives what defines one run."""

    def __init__(
        self, scope: Construct, construct_id: str, *, timeout: Duration, run_inputs: Callable[[], Any]
    ) -> None:
        super().__init__(scope, construct_id)
        if timeout.to_seconds() > WAIT_CONDITION_LIMIT.to_seconds():
            raise ValueError(f"a wait condition waits at most {WAIT_CONDITION_LIMIT.to_seconds():.0f} s")
        self.handle = CfnWaitConditionHandle(self, "Handle")
        self.condition = CfnWaitCondition(
            self, "Condition", handle=self.handle.ref, timeout=str(int(timeout.to_seconds())), count=1
        )
        Aspects.of(self).add(_NamedAfterRun(self, run_inputs))

    def name_after(self, digest: str) -> None:
        self.handle.override_logical_id(f"InstallOrUpgradeReadyHandle{digest}")
        self.condition.override_logical_id(f"InstallOrUpgradeReady{digest}")


def run_digest(stack: Stack, inputs: Any) -> str:
    """16 hex digits of the SHA-256 of ``inputs`` as the template will hold them (tokens resolved)."""
    resolved = json.dumps(stack.resolve(inputs), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(resolved.encode()).hexdigest()[:16].upper()


@jsii.implements(IAspect)
class _NamedAfterRun:
    """Names the gate once the app is complete (aspects run at synthesis), so nothing added to the task
    definition after the gate was built escapes the digest."""

    def __init__(self, gate: RolloutGate, run_inputs: Callable[[], Any]) -> None:
        self._path = gate.node.path
        self._gate = gate
        self._run_inputs = run_inputs

    def visit(self, node: IConstruct) -> None:
        if node.node.path == self._path:
            self._gate.name_after(run_digest(Stack.of(self._gate), self._run_inputs()))
