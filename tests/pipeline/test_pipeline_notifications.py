"""Failures and pending approvals reach people through an encrypted SNS topic."""

import json

from aws_cdk import App, Stack
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk.assertions import Match, Template

from pipeline.notifications import NOTIFICATIONS_SERVICE, PipelineNotifications


def _notifications_template(email: str | None) -> Template:
    stack = Stack(App(), "Notifications")
    pipeline = codepipeline.Pipeline.from_pipeline_arn(
        stack, "Pipeline", "arn:aws:codepipeline:eu-west-1:111111111111:moodle"
    )
    PipelineNotifications(stack, "Notifications", pipeline=pipeline, email=email)
    return Template.from_stack(stack)


def test_rule_covers_failures_and_pending_approvals(pipeline_template: Template) -> None:
    (rule,) = pipeline_template.find_resources("AWS::CodeStarNotifications::NotificationRule").values()
    properties = rule["Properties"]
    assert set(properties["EventTypeIds"]) == {
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-stage-execution-failed",
        "codepipeline-pipeline-action-execution-failed",
        "codepipeline-pipeline-manual-approval-needed",
    }
    (pipeline_id,) = pipeline_template.find_resources("AWS::CodePipeline::Pipeline")
    assert {"Ref": pipeline_id} in properties["Resource"]["Fn::Join"][1]
    (topic_id,) = pipeline_template.find_resources("AWS::SNS::Topic")
    assert properties["Targets"] == [{"TargetAddress": {"Ref": topic_id}, "TargetType": "SNS"}]


def test_topic_is_encrypted_tls_only_and_open_to_codestar_notifications(pipeline_template: Template) -> None:
    (topic,) = pipeline_template.find_resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = pipeline_template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
    }.items() <= next(s for s in statements if s["Effect"] == "Deny").items()
    assert any(
        s["Effect"] == "Allow" and s["Principal"] == {"Service": NOTIFICATIONS_SERVICE} for s in statements
    )
    pipeline_template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": NOTIFICATIONS_SERVICE}, "Effect": "Allow"})]
                )
            },
        },
    )


def test_notification_email_is_subscribed_when_configured() -> None:
    template = _notifications_template("devops@example.edu")
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "devops@example.edu"}
    )


def test_no_subscription_without_an_email() -> None:
    template = _notifications_template(None)
    assert template.find_resources("AWS::SNS::Subscription") == {}
    assert "codepipeline-pipeline-manual-approval-needed" in json.dumps(template.to_json())
