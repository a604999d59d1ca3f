"""ECS web service, its task definition and the internal ALB."""

import pytest
from aws_cdk.assertions import Match

from moodle_infra import image_contract
from tests.conftest import TemplateOf


def _one(template: TemplateOf, environment: str, resource_type: str, props: dict | None = None) -> dict:
    resources = template(environment, "Application").find_resources(
        resource_type, {"Properties": props} if props else None
    )
    assert len(resources) == 1, f"{environment}: expected one {resource_type}, found {sorted(resources)}"
    return next(iter(resources.values()))["Properties"]


def _web_task_definition(template: TemplateOf, environment: str) -> dict:
    return _one(
        template,
        environment,
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({"Command": [image_contract.COMMAND_WEB]})]},
    )


def test_cluster_has_container_insights(template: TemplateOf) -> None:
    template("dev", "Application").has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enhanced"}]},
    )


def test_alb_is_internal_in_private_subnets(template: TemplateOf) -> None:
    properties = _one(template, "prod", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert properties["Scheme"] == "internal"
    subnets = str(properties["Subnets"])
    assert "PrivateSubnet" in subnets and "PublicSubnet" not in subnets


def test_alb_admits_only_cloudfront_origin_facing_prefix_list(template: TemplateOf) -> None:
    app = template("prod", "Application")
    alb_group = _one(
        template,
        "prod",
        "AWS::EC2::SecurityGroup",
        {"GroupDescription": "Moodle ALB: CloudFront VPC origin only"},
    )
    assert "SecurityGroupIngress" not in alb_group, "no inline rule may open the ALB"
    ingress = [
        rule["Properties"]
        for rule in app.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if "LoadBalancerSecurityGroup" in str(rule["Properties"]["GroupId"])
    ]
    assert len(ingress) == 1
    assert ingress[0]["SourcePrefixListId"]["Fn::GetAtt"][1] == "PrefixLists.0.PrefixListId"
    assert (ingress[0]["FromPort"], ingress[0]["ToPort"]) == (80, 80)
    assert not {"CidrIp", "CidrIpv6", "SourceSecurityGroupId"} & set(ingress[0])
    lookups = app.find_resources("Custom::AWS")
    assert any(
        "com.amazonaws.global.cloudfront.origin-facing" in str(r["Properties"]) for r in lookups.values()
    )


def test_alb_speaks_https_when_a_custom_domain_is_configured(template: TemplateOf) -> None:
    listener = _one(template, "prod-domain", "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["Protocol"] == "HTTPS"
    assert listener["Port"] == 443
    plain = _one(template, "prod", "AWS::ElasticLoadBalancingV2::Listener")
    assert plain["Protocol"] == "HTTP"


def test_web_tasks_accept_traffic_from_the_alb_only(template: TemplateOf) -> None:
    rules = template("prod", "Application").find_resources(
        "AWS::EC2::SecurityGroupIngress", {"Properties": {"FromPort": image_contract.CONTAINER_PORT}}
    )
    assert len(rules) == 1
    source = next(iter(rules.values()))["Properties"]["SourceSecurityGroupId"]
    assert "LoadBalancerSecurityGroup" in str(source)


@pytest.mark.parametrize("peer", ["DatabaseInstanceSecurityGroup", "CacheSecurityGroup", "EfsSecurityGroup"])
@pytest.mark.parametrize("workload", ["WebService", "InstallOrUpgrade", "CronService"])
def test_each_workload_reaches_database_cache_and_files(
    template: TemplateOf, workload: str, peer: str
) -> None:
    rules = [
        rule["Properties"]
        for rule in template("prod", "Application").find_resources("AWS::EC2::SecurityGroupIngress").values()
        if peer in str(rule["Properties"]["GroupId"])
        and workload in str(rule["Properties"]["SourceSecurityGroupId"])
    ]
    assert len(rules) == 1, f"{workload} cannot reach {peer}"
    assert rules[0]["IpProtocol"] == "tcp"


def test_target_group_health_check_uses_the_image_health_path(template: TemplateOf) -> None:
    properties = _one(template, "dev", "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert properties["HealthCheckPath"] == image_contract.HEALTH_CHECK_PATH
    assert properties["Port"] == image_contract.CONTAINER_PORT


@pytest.mark.parametrize(
    ("environment", "minimum", "maximum"), [("dev", 1, 2), ("staging", 2, 4), ("prod", 2, 10)]
)
def test_service_size_and_autoscaling_bounds_follow_configuration(
    template: TemplateOf, environment: str, minimum: int, maximum: int
) -> None:
    service = _one(template, environment, "AWS::ECS::Service", {"LoadBalancers": Match.any_value()})
    assert "DesiredCount" not in service, "autoscaling owns the count (issue 10 item 2)"
    target = _one(template, environment, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (minimum, maximum)
    policies = template(environment, "Application").find_resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy"
    )
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]
        for p in policies.values()
    }
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}


def test_rollout_rolls_back_when_new_tasks_never_get_healthy(template: TemplateOf) -> None:
    service = _one(template, "prod", "AWS::ECS::Service", {"LoadBalancers": Match.any_value()})
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


def test_web_container_gets_settings_as_environment_and_credentials_as_secrets(template: TemplateOf) -> None:
    container = _web_task_definition(template, "dev")["ContainerDefinitions"][0]
    environment = {item["Name"] for item in container["Environment"]}
    secrets = {item["Name"] for item in container["Secrets"]}
    assert {
        "MOODLE_WWWROOT",
        "MOODLE_DB_HOST",
        "MOODLE_DB_NAME",
        "MOODLE_REDIS_HOST",
        "MOODLE_REDIS_TLS",
    } <= environment
    assert secrets == {"MOODLE_DB_USER", "MOODLE_DB_PASSWORD", "MOODLE_REDIS_AUTH"}
    assert not environment & secrets
    assert container["PortMappings"] == [{"ContainerPort": image_contract.CONTAINER_PORT, "Protocol": "tcp"}]


def test_wwwroot_is_the_cloudfront_domain_or_the_custom_domain(template: TemplateOf) -> None:
    def wwwroot(environment: str) -> object:
        container = _web_task_definition(template, environment)["ContainerDefinitions"][0]
        return next(item["Value"] for item in container["Environment"] if item["Name"] == "MOODLE_WWWROOT")

    assert "DomainName" in str(wwwroot("dev"))
    assert wwwroot("prod-domain") == "https://moodle.example.edu"


def test_moodledata_is_efs_over_tls_with_iam_through_the_access_point(template: TemplateOf) -> None:
    task = _web_task_definition(template, "dev")
    volume = task["Volumes"][0]["EFSVolumeConfiguration"]
    assert volume["TransitEncryption"] == "ENABLED"
    assert volume["AuthorizationConfig"]["IAM"] == "ENABLED"
    assert "FileSystemMoodleData" in str(volume["AuthorizationConfig"]["AccessPointId"])
    mount = task["ContainerDefinitions"][0]["MountPoints"][0]
    assert mount["ContainerPath"] == image_contract.SHARED_DATA_PATH
    assert mount["ReadOnly"] is False


@pytest.mark.parametrize(("environment", "cpu", "memory"), [("dev", "512", "1024"), ("prod", "1024", "2048")])
def test_web_task_size_follows_configuration(
    template: TemplateOf, environment: str, cpu: str, memory: str
) -> None:
    task = _web_task_definition(template, environment)
    assert (task["Cpu"], task["Memory"]) == (cpu, memory)
