"""Tells people when the pipeline fails or waits for them: CodeStar notifications to an SNS topic."""

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

NOTIFIED_EVENTS = (
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-stage-execution-failed",
    "codepipeline-pipeline-action-execution-failed",
    "codepipeline-pipeline-manual-approval-needed",
)
"""Only what needs a person: a failure to look into, or a promotion waiting for approval."""

NOTIFICATIONS_SERVICE = "codestar-notifications.amazonaws.com"


class PipelineNotifications(Construct):
    """A KMS-encrypted, TLS-only topic, the notification email subscribed to it (when configured),
    and a notification rule on the pipeline that publishes to it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline: codepipeline.IPipeline,
        email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self, "Key", description="Encrypts the Moodle pipeline notifications", enable_key_rotation=True
        )
        key.grant(iam.ServicePrincipal(NOTIFICATIONS_SERVICE), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        notifications.NotificationRule(
            self,
            "Rule",
            source=pipeline,
            events=list(NOTIFIED_EVENTS),
            targets=[self.topic],
            detail_type=notifications.DetailType.FULL,
        )
