"""Network: sizing per environment, endpoints, flow logs, no public addresses in public subnets."""

import pytest

from tests.conftest import TemplateOf


@pytest.mark.parametrize(("environment", "nat_gateways"), [("dev", 1), ("staging", 1), ("prod", 2)])
def test_nat_gateways_follow_configuration(template: TemplateOf, environment: str, nat_gateways: int) -> None:
    template(environment, "Network").resource_count_is("AWS::EC2::NatGateway", nat_gateways)


def test_two_public_and_two_private_subnets_over_two_azs_resolved_at_deploy_time(
    template: TemplateOf,
) -> None:
    subnets = template("prod", "Network").find_resources("AWS::EC2::Subnet")
    public = [s for s in subnets.values() if s["Properties"]["MapPublicIpOnLaunch"] is True]
    assert len(subnets) == 4
    assert public == [], "public subnets hold only NAT gateways: nothing gets a public IP by default"
    zones = [s["Properties"]["AvailabilityZone"] for s in subnets.values()]
    assert all("Fn::Select" in zone and zone["Fn::Select"][1] == {"Fn::GetAZs": ""} for zone in zones)
    assert sorted(zone["Fn::Select"][0] for zone in zones) == [0, 0, 1, 1]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_s3_gateway_endpoint_everywhere(template: TemplateOf, environment: str) -> None:
    template(environment, "Network").has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
        },
    )


def _interface_services(template: TemplateOf, environment: str) -> set[str]:
    endpoints = template(environment, "Network").find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    return {
        e["Properties"]["ServiceName"].removeprefix("com.amazonaws.eu-west-1.") for e in endpoints.values()
    }


def test_interface_endpoints_in_prod_for_image_pulls_logs_and_secrets(template: TemplateOf) -> None:
    assert _interface_services(template, "prod") == {"ecr.api", "ecr.dkr", "logs", "secretsmanager"}


def test_dev_has_no_interface_endpoints_to_stay_cheap(template: TemplateOf) -> None:
    assert _interface_services(template, "dev") == set()


def test_flow_logs_capture_all_traffic(template: TemplateOf) -> None:
    template("dev", "Network").has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
