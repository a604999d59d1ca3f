"""The environment's SNS topic: RDS events and CloudWatch alarms reach people through it."""

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

PUBLISHING_SERVICES = ("cloudwatch.amazonaws.com", "events.rds.amazonaws.com")
"""Services that publish to the topic and so must be able to use its KMS key."""


class Notifications(Construct):
    """A KMS-encrypted, TLS-only topic with the environment's alarm email subscribed (if any)."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "Key", description="Encrypts the Moodle notifications topic", enable_key_rotation=True
        )
        self.topic = sns.Topic(self, "Topic", master_key=self.key, enforce_ssl=True)
        for service in PUBLISHING_SERVICES:
            principal = iam.ServicePrincipal(service)
            self.key.grant(principal, "kms:Decrypt", "kms:GenerateDataKey*")
            self.topic.grant_publish(principal)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
