"""The checks after each deployment: ``python -m smoke`` fed the stage's CloudFormation outputs, then
``python -m journey.canary_run``: the browser canary's first run after the deploy must pass."""

from aws_cdk import Duration, RemovalPolicy, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from constructs import Construct

from stages.moodle_stage import MoodleStage

REPORT_FILE = "smoke-report.xml"
SMOKE_TIMEOUT = Duration.minutes(40)
"""The smoke program stops itself after 10 minutes (5 of them waiting for a fresh deploy to answer), the
wait for the canary's next run after 15 (journey/canary_run.py)."""


def smoke_test_step(
    scope: Construct,
    *,
    environment: str,
    stage: MoodleStage,
    source: pipelines.IFileSetProducer,
    expected_release: str,
) -> pipelines.CodeBuildStep:
    """A CodeBuild step in the tooling account; its JUnit report lands in the environment's report group,
    so every check's result and history is visible in the CodeBuild console."""
    reports = codebuild.ReportGroup(
        scope,
        f"SmokeTestReports-{environment}",
        type=codebuild.ReportGroupType.TEST,
        removal_policy=RemovalPolicy.DESTROY,
        delete_reports=True,
    )
    outputs = {
        "SMOKE_URL": stage.site_url,
        "SMOKE_ALB_DNS_NAME": stage.origin_dns_name,
        "SMOKE_HEALTH_PATH": stage.health_path,
        "SMOKE_REPORTED_RELEASE": stage.moodle_release,
    }
    env = {"SMOKE_EXPECTED_RELEASE": expected_release}
    commands = [f"python3 -m smoke --junit-xml {REPORT_FILE}"]
    statements = [
        iam.PolicyStatement(
            actions=["codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"],
            resources=[reports.report_group_arn],
        )
    ]
    if stage.canary_name is not None and stage.canary_runner_role_arn is not None:
        outputs["JOURNEY_CANARY"] = stage.canary_name
        env["JOURNEY_RUNNER_ROLE_ARN"] = stage.canary_runner_role_arn
        env["AWS_DEFAULT_REGION"] = stage.config.region
        commands.append("python3 -m journey.canary_run")
        statements.append(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[stage.canary_runner_role_arn])
        )
    return pipelines.CodeBuildStep(
        f"SmokeTest-{environment}",
        input=source,
        env_from_cfn_outputs=outputs,
        env=env,
        commands=commands,
        timeout=SMOKE_TIMEOUT,
        partial_build_spec=codebuild.BuildSpec.from_object(
            {
                "phases": {"install": {"runtime-versions": {"python": "3.11"}}},
                "reports": {reports.report_group_arn: {"files": [REPORT_FILE], "file-format": "JUNITXML"}},
            }
        ),
        role_policy_statements=statements,
    )
