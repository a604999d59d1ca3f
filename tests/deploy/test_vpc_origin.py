"""Rule vpc-origin: CloudFront reaches the internal ALB through its security group."""

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.vpc_origin import RULE
from tests.deploy.conftest import broken, find, resource_of_type

APPLICATION = "MoodlePipeline/Prod/Application"


def test_http_and_https_origins_pass(all_templates: list[StackTemplate]) -> None:
    https = resource_of_type(find(all_templates, "ProdDomain/Application").body, "AWS::CloudFront::VpcOrigin")
    assert https["Properties"]["VpcOriginEndpointConfig"]["OriginProtocolPolicy"] == "https-only"
    assert not RULE.violations(all_templates)


def test_catches_a_public_alb_a_closed_security_group_and_a_vpc_without_internet_gateway(
    shipped_templates: list[StackTemplate],
) -> None:
    def exposed(body: dict) -> None:
        resource_of_type(body, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["Scheme"] = (
            "internet-facing"
        )
        for logical_id, resource in list(body["Resources"].items()):
            if (
                resource["Type"] == "AWS::EC2::SecurityGroupIngress"
                and "SourcePrefixListId" in resource["Properties"]
            ):
                del body["Resources"][logical_id]

    def no_gateway(body: dict) -> None:
        for logical_id, resource in list(body["Resources"].items()):
            if resource["Type"] == "AWS::EC2::VPCGatewayAttachment":
                del body["Resources"][logical_id]

    network = find(shipped_templates, "MoodlePipeline/Prod/Network")
    others = [t for t in shipped_templates if t.path not in (APPLICATION, network.path)]
    application = broken(find(shipped_templates, APPLICATION), exposed)
    gateway_less = broken(network, no_gateway)
    messages = [v.message for v in RULE.violations([*others, application, gateway_less])]
    assert any("is not internal" in m for m in messages)
    assert any("admits no prefix list (CloudFront) on port 80" in m for m in messages)
    assert any("has no internet gateway attached" in m for m in messages)


def test_catches_a_port_without_listener_and_a_crowded_security_group(
    shipped_templates: list[StackTemplate],
) -> None:
    def crowded(body: dict) -> None:
        origin = resource_of_type(body, "AWS::CloudFront::VpcOrigin")
        origin["Properties"]["VpcOriginEndpointConfig"]["OriginProtocolPolicy"] = "https-only"
        group = resource_of_type(body, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"][
            "SecurityGroups"
        ][0]
        for index in range(6):
            body["Resources"][f"Planted{index}"] = {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {
                    "GroupId": group,
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "CidrIp": f"10.{index}.0.0/16",
                },
            }

    messages = [
        v.message
        for v in RULE.violations([*shipped_templates, broken(find(shipped_templates, APPLICATION), crowded)])
    ]
    assert any("connects on port 443 (https-only), where" in m and "has no listener" in m for m in messages)
    assert any("counts 61 inbound rules, over the quota of 60" in m for m in messages)
