"""MoodleStage: one complete, independently deployable copy of the Moodle system."""

from typing import Any

from aws_cdk import CfnOutput, Environment, Stage
from constructs import Construct

from moodle_infra.browser_canary.construct import runner_role_name
from moodle_infra.config import EnvironmentConfig
from moodle_infra.moodle_image import MoodleImage
from moodle_infra.reference_strength import strong_producers
from moodle_infra.stacks.application_stack import ApplicationStack
from moodle_infra.stacks.audit_stack import AuditStack
from moodle_infra.stacks.data_stack import DataStack
from moodle_infra.stacks.edge_security_stack import EDGE_REGION, EdgeSecurityStack
from moodle_infra.stacks.network_stack import NetworkStack


class MoodleStage(Stage):
    """dev, staging, prod (inside the pipeline) and sandbox (deployed from a laptop) are all this."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        image: MoodleImage,
        pipeline_account: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``pipeline_account``: the tooling account whose pipeline runs the browser canary after deploys."""
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        primary = Environment(account=config.account, region=config.region)
        edge = Environment(account=config.account, region=EDGE_REGION)

        self.edge_security = EdgeSecurityStack(self, "EdgeSecurity", config=config, env=edge)
        self.network = NetworkStack(self, "Network", config=config.network, env=primary)
        self.audit = AuditStack(self, "Audit", config=config, env=primary)
        self.data = DataStack(
            self, "Data", config=config, vpc=self.network.vpc, events_topic=self.audit.topic, env=primary
        )
        self.application = ApplicationStack(
            self,
            "Application",
            config=config,
            image=image,
            vpc=self.network.vpc,
            data=self.data,
            edge_security=self.edge_security,
            access_logs=self.audit.access_logs,
            topic=self.audit.topic,
            pipeline_account=pipeline_account,
            env=primary,
        )
        strong_producers(self.network, self.audit, self.data)

    @property
    def site_url(self) -> CfnOutput:
        return self.application.site_url

    @property
    def health_path(self) -> CfnOutput:
        return self.application.health_path

    @property
    def origin_dns_name(self) -> CfnOutput:
        return self.application.origin_dns_name

    @property
    def moodle_release(self) -> CfnOutput:
        return self.application.moodle_release

    @property
    def canary_runner_role_arn(self) -> str | None:
        """The role the pipeline assumes to read the canary's runs (a fixed name: no stack reference)."""
        if self.application.canary is None or self.application.canary.runner is None:
            return None
        return f"arn:aws:iam::{self.config.account}:role/{runner_role_name(self.config.name)}"

    @property
    def canary_name(self) -> CfnOutput | None:
        """None when the environment runs no browser canary."""
        canary = self.application.canary
        return canary.name_output if canary else None
