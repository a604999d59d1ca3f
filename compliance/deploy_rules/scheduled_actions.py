"""Scheduled actions of a scalable target are ones Application Auto Scaling accepts."""

import re
import zoneinfo
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation

MAX_SCHEDULED_ACTIONS = 200
SCHEDULE = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)|rate\(\d+ \w+\)|cron\([^()]+\)")
FORBIDDEN_IN_NAME = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]")


def _problems(target: dict[str, Json], action: dict[str, Json]) -> Iterator[str]:
    name = action.get("ScheduledActionName", "")
    if not 1 <= len(name) <= 256 or FORBIDDEN_IN_NAME.search(name) or name != name.strip():
        yield "its name must be 1 to 256 characters without ':', '/', '|', control characters or edge spaces"
    if not SCHEDULE.fullmatch(str(action.get("Schedule", ""))):
        yield f"schedule {action.get('Schedule')!r} is none of at(yyyy-mm-ddThh:mm:ss), rate(...), cron(...)"
    time_zone = action.get("Timezone")
    if time_zone is not None and time_zone not in zoneinfo.available_timezones():
        yield f"time zone {time_zone!r} is no IANA time zone name"
    capacity = action.get("ScalableTargetAction") or {}
    if "MinCapacity" not in capacity and "MaxCapacity" not in capacity:
        yield "sets neither MinCapacity nor MaxCapacity"
    maximum = capacity.get("MaxCapacity", target.get("MaxCapacity"))
    minimum = capacity.get("MinCapacity")
    if isinstance(minimum, int) and isinstance(maximum, int) and minimum > maximum:
        yield f"raises the minimum to {minimum}, above the maximum {maximum}"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """PutScheduledAction refuses a schedule other than ``at(yyyy-mm-ddThh:mm:ss)``, ``rate(...)`` or
    ``cron(...)``, a time zone that is not an IANA name, a name with ``:``, ``/`` or ``|``, and a scalable
    target action with neither capacity
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html); a
    minimum above the maximum in force leaves the action failing when it runs, long after the deploy
    (https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html);
    names are unique per scalable target, and a target holds at most 200 scheduled actions, a quota that
    cannot be raised
    (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-quotas.html)."""
    for template in templates:
        for target_id, target in template.resources("AWS::ApplicationAutoScaling::ScalableTarget"):
            properties = target.get("Properties", {})
            actions = properties.get("ScheduledActions") or []
            if len(actions) > MAX_SCHEDULED_ACTIONS:
                yield Violation(
                    template.path,
                    target_id,
                    f"has {len(actions)} scheduled actions; "
                    f"at most {MAX_SCHEDULED_ACTIONS} per scalable target",
                )
            seen: set[str] = set()
            for action in actions:
                name = action.get("ScheduledActionName", "")
                if name in seen:
                    yield Violation(template.path, target_id, f"names scheduled action {name!r} twice")
                seen.add(name)
                for problem in _problems(properties, action):
                    yield Violation(template.path, target_id, f"scheduled action {name!r}: {problem}")


RULE = DeployRule("scheduled-actions", "Scheduled actions are ones Application Auto Scaling accepts", check)
