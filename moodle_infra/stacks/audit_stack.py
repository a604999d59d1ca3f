"""Audit trail, access-log bucket and the notifications topic: the environment's record keeping."""

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from moodle_infra.access_logs import AccessLogs
from moodle_infra.audit import Audit
from moodle_infra.config import EnvironmentConfig
from moodle_infra.notifications import Notifications


class AuditStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.access_logs = AccessLogs(self, "AccessLogs", config=config).bucket
        self.trail = Audit(self, "Audit", config=config, access_logs=self.access_logs).trail
        self.topic = Notifications(self, "Notifications", email=config.alarm_email).topic
