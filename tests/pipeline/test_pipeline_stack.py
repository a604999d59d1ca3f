"""The pipeline's shape as synthesized: stage order, what runs before and after each deployment,
the image build, the image repository and the synth step."""

import json
from typing import Any

import pytest
import yaml
from aws_cdk import App, Stack, pipelines
from aws_cdk import aws_ecr as ecr
from aws_cdk.assertions import Match, Template

from compliance.deploy_rules.model import as_list
from moodle_infra.config import ProjectConfig
from pipeline.image_build_step import IMAGE_BUILDSPEC, image_build_step
from pipeline.image_repository import PROMOTED_IMAGE_CEILING, PULL_ACTIONS
from pipeline.node_runtime import CODEBUILD_NODEJS
from pipeline.pipeline_stack import PipelineStack, pinned_cdk_cli_version
from pipeline.promotion_step import MARK_ACTIONS, RELEASE_ACTIONS
from pipeline.promotion_tags import KEPT_PROMOTIONS
from pipeline.security_rebuild import synth_extension
from pipeline.vulnerability_gate_step import GATE_STEP, READ_SCAN_ACTIONS, SUMMARY_VARIABLE
from tests.pipeline.conftest import IMAGE_BUILD_ARGS

ENVIRONMENT_STAGES = {"dev": "Dev", "staging": "Staging", "prod": "Prod"}


def _pipeline(template: Template) -> dict[str, Any]:
    pipelines = template.find_resources("AWS::CodePipeline::Pipeline")
    assert len(pipelines) == 1
    properties: dict[str, Any] = next(iter(pipelines.values()))["Properties"]
    return properties


def _actions(template: Template, stage_name: str) -> list[dict[str, Any]]:
    stages = {stage["Name"]: stage for stage in _pipeline(template)["Stages"]}
    actions: list[dict[str, Any]] = stages[stage_name]["Actions"]
    return actions


def _action(template: Template, stage_name: str, action_name: str) -> dict[str, Any]:
    matching = [action for action in _actions(template, stage_name) if action["Name"] == action_name]
    assert len(matching) == 1, f"{stage_name} has no single action {action_name}"
    return matching[0]


def _deployments(template: Template, stage_name: str) -> list[dict[str, Any]]:
    return [a for a in _actions(template, stage_name) if a["ActionTypeId"]["Provider"] == "CloudFormation"]


def _project(template: Template, action: dict[str, Any]) -> dict[str, Any]:
    logical_id = action["Configuration"]["ProjectName"]["Ref"]
    properties: dict[str, Any] = template.to_json()["Resources"][logical_id]["Properties"]
    return properties


def _build_spec(project: dict[str, Any]) -> str:
    """The BuildSpec as text; token parts (e.g. a report group ARN) stay as their JSON."""
    build_spec = project["Source"]["BuildSpec"]
    if isinstance(build_spec, str):
        return build_spec
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in build_spec["Fn::Join"][1])


def _build_spec_object(project: dict[str, Any]) -> dict[str, Any]:
    """The BuildSpec parsed, each ``Fn::GetAtt`` in it (e.g. a report group's ARN, which is a key)
    replaced by ``<LogicalId.Attribute>``."""
    build_spec = project["Source"]["BuildSpec"]
    parts = build_spec["Fn::Join"][1] if isinstance(build_spec, dict) else [build_spec]
    text = "".join(part if isinstance(part, str) else "<{}.{}>".format(*part["Fn::GetAtt"]) for part in parts)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _policy_statements_of_project(template: Template, project_action: dict[str, Any]) -> list[dict[str, Any]]:
    role_id = _project(template, project_action)["ServiceRole"]["Fn::GetAtt"][0]
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    ).values()
    return [
        statement for policy in policies for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_pipeline_type_is_v2(pipeline_template: Template) -> None:
    assert _pipeline(pipeline_template)["PipelineType"] == "V2"


def test_stages_run_in_promotion_order(pipeline_template: Template) -> None:
    names = [stage["Name"] for stage in _pipeline(pipeline_template)["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "Dev", "Staging", "Prod"]


def test_source_is_the_configured_codeconnections_repository(
    pipeline_template: Template, project_config: ProjectConfig
) -> None:
    (source,) = _actions(pipeline_template, "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    configuration = source["Configuration"]
    assert configuration["ConnectionArn"] == project_config.pipeline.connection_arn
    assert configuration["FullRepositoryId"] == project_config.pipeline.repository
    assert configuration["BranchName"] == project_config.pipeline.branch


def test_pipeline_lives_in_the_tooling_account(
    pipeline_stack: PipelineStack, project_config: ProjectConfig
) -> None:
    assert (pipeline_stack.account, pipeline_stack.region) == (
        project_config.pipeline.account,
        project_config.pipeline.region,
    )


def test_every_kms_key_rotates(pipeline_template: Template) -> None:
    keys = pipeline_template.find_resources("AWS::KMS::Key")
    assert len(keys) == 2, "the cross-account artifact key and the notifications key"
    assert all(key["Properties"]["EnableKeyRotation"] is True for key in keys.values())


def test_artifacts_go_to_a_versioned_access_logged_bucket(
    pipeline_stack: PipelineStack, pipeline_template: Template
) -> None:
    resources = pipeline_template.to_json()["Resources"]
    (store,) = [
        store["ArtifactStore"]
        for store in _pipeline(pipeline_template)["ArtifactStores"]
        if store["Region"] == pipeline_stack.region
    ]
    bucket = resources[store["Location"]["Ref"]]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    access_logs = resources[bucket["LoggingConfiguration"]["DestinationBucketName"]["Ref"]]["Properties"]
    assert access_logs["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == store["EncryptionKey"]["Id"]


def test_synth_installs_tests_and_synthesizes_into_cdk_out(
    pipeline_template: Template, project_config: ProjectConfig
) -> None:
    project = _project(pipeline_template, _action(pipeline_template, "Build", "Synth"))
    build_spec = _build_spec_object(project)
    assert build_spec["phases"]["install"]["commands"] == ["make install"]
    commands = build_spec["phases"]["build"]["commands"]
    assert commands[0] == "make test-fast"
    extension = synth_extension(project_config.pipeline.security_rebuild, repository_name="moodle")
    assert commands[1:3] == list(extension.before_synth)
    assert commands[3] == "make synth"
    assert commands[4] == 'cp "${MOODLE_IMAGE_PINS:-image/debian-pins.json}" cdk.out/image-pins.json'
    assert commands[5:6] == list(extension.after_synth)
    assert build_spec["artifacts"]["base-directory"] == "cdk.out"
    assert build_spec["cache"]["paths"] == ["/root/.cache/pip/**/*", "/root/.npm/**/*"]
    assert project["Cache"] == {"Type": "LOCAL", "Modes": ["LOCAL_CUSTOM_CACHE"]}
    assert project["Environment"]["PrivilegedMode"] is False, "synthesis needs no Docker"


def test_self_mutation_uses_the_pinned_cdk_cli(pipeline_template: Template) -> None:
    project = _project(pipeline_template, _action(pipeline_template, "UpdatePipeline", "SelfMutate"))
    assert f"npm install -g aws-cdk@{pinned_cdk_cli_version()}" in _build_spec(project)


def test_assets_are_published_by_one_project_per_asset_type(pipeline_template: Template) -> None:
    assert [action["Name"] for action in _actions(pipeline_template, "Assets")] == ["FileAssets"]


def test_image_is_built_before_the_dev_deployment(pipeline_template: Template) -> None:
    image_build = _action(pipeline_template, "Dev", "BuildMoodleImage")
    assert image_build["RunOrder"] < min(
        action["RunOrder"] for action in _deployments(pipeline_template, "Dev")
    )
    for stage_name in ("Staging", "Prod"):
        assert "BuildMoodleImage" not in [
            action["Name"] for action in _actions(pipeline_template, stage_name)
        ]


def test_image_build_is_privileged_and_runs_the_image_buildspec(
    pipeline_template: Template, expected_image_tag: str
) -> None:
    project = _project(pipeline_template, _action(pipeline_template, "Dev", "BuildMoodleImage"))
    assert project["Environment"]["PrivilegedMode"] is True
    build_spec = json.loads(_build_spec(project))
    # The file's phases, and CDK's install command that links the synth step's assembly beside the source.
    assert build_spec["phases"] | {"install": None} == yaml.safe_load(IMAGE_BUILDSPEC.read_text())[
        "phases"
    ] | {"install": None}
    (link,) = build_spec["phases"]["install"]["commands"]
    assert link.endswith('ln -s -- "$CODEBUILD_SRC_DIR_Synth_Output" "assembly"')
    variables = {
        variable["Name"]: variable["Value"] for variable in project["Environment"]["EnvironmentVariables"]
    }
    assert variables["IMAGE_TAG"] == expected_image_tag
    assert "MoodleImagesRepository" in json.dumps(variables["IMAGE_REPOSITORY_URI"])
    assert {name: variables[name] for name in IMAGE_BUILD_ARGS} == IMAGE_BUILD_ARGS


def test_image_build_refuses_arguments_the_buildspec_would_ignore() -> None:
    stack = Stack(App(), "Images")
    source = pipelines.CodePipelineSource.connection("org/repo", "main", connection_arn="arn")
    with pytest.raises(ValueError, match="MOODLE_RELEASE"):
        image_build_step(
            source=source,
            assembly=source,
            repository=ecr.Repository.from_repository_name(stack, "Repository", "moodle"),
            tag="img-0",
            build_args={"MOODLE_RELEASE": "5.1.6"},
        )


def test_image_build_may_push_to_the_image_repository_only(pipeline_template: Template) -> None:
    image_build = _action(pipeline_template, "Dev", "BuildMoodleImage")
    ecr_statements = [
        statement
        for statement in _policy_statements_of_project(pipeline_template, image_build)
        if any(action.startswith("ecr") for action in statement["Action"])
    ]
    for statement in ecr_statements:
        if statement["Resource"] == "*":
            assert set(statement["Action"]) == {
                "ecr:GetAuthorizationToken",
                "ecr-public:GetAuthorizationToken",
                "sts:GetServiceBearerToken",
            }
        else:
            assert statement["Resource"]["Fn::GetAtt"][0].startswith("MoodleImagesRepository")
    assert any("ecr:PutImage" in statement["Action"] for statement in ecr_statements)


@pytest.mark.parametrize("stage_name", ["Staging", "Prod"])
def test_manual_approval_precedes_staging_and_prod(pipeline_template: Template, stage_name: str) -> None:
    approval = _action(pipeline_template, stage_name, f"PromoteTo-{stage_name.lower()}")
    assert approval["ActionTypeId"]["Category"] == "Approval"
    assert approval["RunOrder"] < min(
        action["RunOrder"] for action in _deployments(pipeline_template, stage_name)
    )
    assert stage_name.lower() in approval["Configuration"]["CustomData"]


def test_dev_needs_no_promotion_approval(pipeline_template: Template) -> None:
    approvals = [
        action["Name"]
        for action in _actions(pipeline_template, "Dev")
        if action["ActionTypeId"]["Category"] == "Approval"
    ]
    assert approvals == ["Permissions-dev.Confirm"], "only the one that approves itself unless IAM broadens"


@pytest.mark.parametrize(("environment", "stage_name"), ENVIRONMENT_STAGES.items())
def test_smoke_tests_run_after_each_deployment_with_its_outputs(
    pipeline_template: Template, environment: str, stage_name: str
) -> None:
    smoke = _action(pipeline_template, stage_name, f"SmokeTest-{environment}")
    assert smoke["RunOrder"] > max(
        action["RunOrder"] for action in _deployments(pipeline_template, stage_name)
    )
    (application_deploy,) = [
        action
        for action in _deployments(pipeline_template, stage_name)
        if action["Name"] == "Application.Deploy"
    ]
    namespace = application_deploy["Namespace"]
    variables = {
        variable["name"]: variable["value"]
        for variable in json.loads(smoke["Configuration"]["EnvironmentVariables"])
    }
    assert variables == {
        "SMOKE_URL": f"#{{{namespace}.SiteUrl}}",
        "SMOKE_ALB_DNS_NAME": f"#{{{namespace}.OriginDnsName}}",
        "SMOKE_HEALTH_PATH": f"#{{{namespace}.HealthPath}}",
        "SMOKE_REPORTED_RELEASE": f"#{{{namespace}.MoodleRelease}}",
        "JOURNEY_CANARY": f"#{{{namespace}.CanaryName}}",
    }


@pytest.mark.parametrize(("environment", "stage_name"), ENVIRONMENT_STAGES.items())
def test_smoke_tests_report_junit_to_the_environments_report_group(
    pipeline_template: Template, project_config: ProjectConfig, environment: str, stage_name: str
) -> None:
    project = _project(pipeline_template, _action(pipeline_template, stage_name, f"SmokeTest-{environment}"))
    build_spec = _build_spec(project)
    assert "python3 -m smoke --junit-xml smoke-report.xml" in build_spec
    variables = {
        variable["Name"]: variable["Value"] for variable in project["Environment"]["EnvironmentVariables"]
    }
    # The release the smoke test expects the site to report: the configured one.
    assert variables["SMOKE_EXPECTED_RELEASE"] == project_config.moodle_release.version
    assert '"file-format": "JUNITXML"' in build_spec
    assert f"SmokeTestReports{environment}" in build_spec


@pytest.mark.parametrize("environment", ENVIRONMENT_STAGES)
def test_stages_deploy_the_synth_time_image_tag(
    pipeline_stack: PipelineStack, project_config: ProjectConfig, environment: str, expected_image_tag: str
) -> None:
    application = pipeline_stack.node.find_child(ENVIRONMENT_STAGES[environment]).node.find_child(
        "Application"
    )
    assert isinstance(application, Stack)
    task_definitions = Template.from_stack(application).find_resources("AWS::ECS::TaskDefinition")
    images = {
        json.dumps(container["Image"])
        for task_definition in task_definitions.values()
        for container in task_definition["Properties"]["ContainerDefinitions"]
        if "dkr.ecr" in json.dumps(container["Image"])
    }
    tooling = project_config.pipeline
    repository_uri = f"{tooling.account}.dkr.ecr.{tooling.region}."
    assert images, "no task definition runs the Moodle image"
    assert all(
        repository_uri in image and f"/{tooling.image_repository_name}:{expected_image_tag}" in image
        for image in images
    )


def test_image_repository_is_immutable_scanned_encrypted_and_retained(pipeline_template: Template) -> None:
    (repository,) = pipeline_template.find_resources("AWS::ECR::Repository").values()
    properties = repository["Properties"]
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert properties["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    assert repository["DeletionPolicy"] == "RetainExceptOnCreate", "kept, but not after a failed create"


def test_lifecycle_never_expires_an_image_an_environment_was_promoted_to(pipeline_template: Template) -> None:
    """ECR lets no lower-priority rule expire an image that a higher-priority rule's tag selection
    matches: each environment's promoted images are selected first, with a count never reached."""
    (repository,) = pipeline_template.find_resources("AWS::ECR::Repository").values()
    rules = json.loads(repository["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    selections = [rule["selection"] for rule in sorted(rules, key=lambda rule: rule["rulePriority"])]
    assert selections[:3] == [
        {
            "tagStatus": "tagged",
            "tagPrefixList": [f"deployed-{environment}-"],
            "countType": "imageCountMoreThan",
            "countNumber": PROMOTED_IMAGE_CEILING,
        }
        for environment in ENVIRONMENT_STAGES
    ]
    assert PROMOTED_IMAGE_CEILING > 10 * KEPT_PROMOTIONS
    assert selections[3]["tagStatus"] == "untagged"
    assert selections[4] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50}


@pytest.mark.parametrize(("environment", "stage_name"), ENVIRONMENT_STAGES.items())
def test_each_environment_marks_its_image_before_deploying_and_releases_old_tags_after(
    pipeline_template: Template, expected_image_tag: str, environment: str, stage_name: str
) -> None:
    mark = _action(pipeline_template, stage_name, f"MarkImage-{environment}")
    release = _action(pipeline_template, stage_name, f"ReleaseImages-{environment}")
    deployments = _deployments(pipeline_template, stage_name)
    assert mark["RunOrder"] < min(action["RunOrder"] for action in deployments)
    assert release["RunOrder"] > max(action["RunOrder"] for action in deployments)
    before = "BuildMoodleImage" if environment == "dev" else f"PromoteTo-{environment}"
    assert _action(pipeline_template, stage_name, before)["RunOrder"] < mark["RunOrder"]
    commands = _build_spec(_project(pipeline_template, mark))
    assert f"--environment {environment} --image-tag {expected_image_tag}" in commands
    for action, allowed in ((mark, MARK_ACTIONS), (release, RELEASE_ACTIONS)):
        ecr_statements = [
            statement
            for statement in _policy_statements_of_project(pipeline_template, action)
            if any(name.startswith("ecr:") for name in statement["Action"])
        ]
        assert [set(statement["Action"]) for statement in ecr_statements] == [set(allowed)]
        assert ecr_statements[0]["Resource"]["Fn::GetAtt"][0].startswith("MoodleImagesRepository")


def test_only_the_environment_accounts_may_pull_images(
    pipeline_template: Template, project_config: ProjectConfig
) -> None:
    (repository,) = pipeline_template.find_resources("AWS::ECR::Repository").values()
    (statement,) = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == sorted(PULL_ACTIONS)
    principals = statement["Principal"]["AWS"]
    accounts = {environment.account for environment in project_config.environments.values()}
    assert len(principals) == len(accounts) == 3
    assert {
        json.dumps(principal).split(":iam::")[1].split(":root")[0] for principal in principals
    } == accounts


def test_outputs_name_the_pipeline_the_image_repository_and_the_topic(pipeline_template: Template) -> None:
    outputs = pipeline_template.to_json()["Outputs"]
    assert outputs["PipelineName"]["Value"] == {
        "Ref": next(iter(pipeline_template.find_resources("AWS::CodePipeline::Pipeline")))
    }
    assert "MoodleImagesRepository" in json.dumps(outputs["ImageRepositoryUri"]["Value"])
    assert outputs["NotificationTopicArn"]["Value"] == {
        "Ref": next(iter(pipeline_template.find_resources("AWS::SNS::Topic")))
    }


def test_the_permissions_check_runs_the_pinned_cli_on_the_pinned_node(pipeline_template: Template) -> None:
    """ConfirmPermissionsBroadening's own project takes no CodeBuild defaults (pipeline/node_runtime.py)."""
    (project,) = [
        resource
        for logical_id, resource in pipeline_template.find_resources("AWS::CodeBuild::Project").items()
        if "SecurityCheck" in logical_id
    ]
    build_spec = "".join(
        part for part in project["Properties"]["Source"]["BuildSpec"]["Fn::Join"][1] if isinstance(part, str)
    )

    install = build_spec.index(f'"install": {{"runtime-versions": {{"nodejs": "{CODEBUILD_NODEJS}"}}}}')
    assert install < build_spec.index('"build"')
    assert f'"npm install -g aws-cdk@{pinned_cdk_cli_version()}"' in build_spec


def test_the_vulnerability_gate_runs_between_the_image_build_and_everything_else_in_dev(
    pipeline_template: Template, expected_image_tag: str
) -> None:
    gate = _action(pipeline_template, "Dev", GATE_STEP)
    assert _action(pipeline_template, "Dev", "BuildMoodleImage")["RunOrder"] < gate["RunOrder"]
    assert gate["RunOrder"] < _action(pipeline_template, "Dev", "MarkImage-dev")["RunOrder"]
    assert gate["RunOrder"] < min(action["RunOrder"] for action in _deployments(pipeline_template, "Dev"))
    project = _project(pipeline_template, gate)
    build_spec = _build_spec(project)
    assert f"--image-tag {expected_image_tag} --fail-severity CRITICAL --wait-minutes 30" in build_spec
    assert '"file-format": "JUNITXML"' in build_spec and "VulnerabilityReports" in build_spec
    assert f'"exported-variables": ["{SUMMARY_VARIABLE}"]' in build_spec.replace("\n", "").replace("  ", "")
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["VULNERABILITY_ALLOWED"] == "[]"
    assert project["TimeoutInMinutes"] == 40


def test_the_vulnerability_gate_reads_only_this_repositorys_scans(pipeline_template: Template) -> None:
    statements = _policy_statements_of_project(
        pipeline_template, _action(pipeline_template, "Dev", GATE_STEP)
    )
    ecr_reads = [s for s in statements if any(str(a).startswith("ecr:") for a in as_list(s["Action"]))]
    assert [set(as_list(s["Action"])) for s in ecr_reads] == [set(READ_SCAN_ACTIONS)]
    assert ecr_reads[0]["Resource"]["Fn::GetAtt"][0].startswith("MoodleImagesRepository")
    (inspector,) = [s for s in statements if s["Action"] == "inspector2:ListFindings"]
    assert inspector["Resource"] == "*", "no resource-level permissions; the rest is this repository only"


def test_approvals_carry_the_gate_summary(pipeline_template: Template) -> None:
    gate_namespace = _action(pipeline_template, "Dev", GATE_STEP)["Namespace"]
    for stage_name in ("Staging", "Prod"):
        approval = _action(pipeline_template, stage_name, f"PromoteTo-{stage_name.lower()}")
        assert approval["Configuration"]["CustomData"].endswith(
            f" Image scan: #{{{gate_namespace}.{SUMMARY_VARIABLE}}}."
        )


@pytest.mark.parametrize(("environment", "stage_name"), ENVIRONMENT_STAGES.items())
def test_after_the_smoke_tests_the_canarys_next_run_must_pass(
    pipeline_template: Template, project_config: ProjectConfig, environment: str, stage_name: str
) -> None:
    action = _action(pipeline_template, stage_name, f"SmokeTest-{environment}")
    project = _project(pipeline_template, action)
    commands = _build_spec_object(project)["phases"]["build"]["commands"]
    assert commands[-2:] == ["python3 -m smoke --junit-xml smoke-report.xml", "python3 -m journey.canary_run"]
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    account = project_config.environments[environment].account
    runner = f"arn:aws:iam::{account}:role/moodle-{environment}-journey-runner"
    assert variables["JOURNEY_RUNNER_ROLE_ARN"] == runner
    assert variables["AWS_DEFAULT_REGION"] == project_config.environments[environment].region
    statements = _policy_statements_of_project(pipeline_template, action)
    assert {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": runner} in statements


@pytest.mark.parametrize("stage_name", ENVIRONMENT_STAGES.values())
def test_the_runner_role_lets_the_pipeline_read_the_canarys_runs_only(
    pipeline_stack: PipelineStack, project_config: ProjectConfig, stage_name: str
) -> None:
    stage = pipeline_stack.node.find_child(stage_name)
    application = Template.from_stack(stage.node.find_child("Application"))  # type: ignore[arg-type]
    roles = application.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": Match.string_like_regexp("journey-runner")}}
    )
    [(logical_id, role)] = roles.items()
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert json.dumps(trust["Principal"]).count(project_config.pipeline.account) == 1
    policies = application.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": logical_id}]}}
    )
    [statement] = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert statement["Action"] == ["synthetics:GetCanary", "synthetics:GetCanaryRuns"]
    assert "BrowserCanary" in json.dumps(statement["Resource"])
