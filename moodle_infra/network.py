"""The VPC every other part of an environment lives in."""

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from compliance.acknowledgments import acknowledge
from compliance.cdk_internals import skip_checkov_on_provider
from moodle_infra.config import NetworkConfig
from moodle_infra.keys import logs_key
from moodle_infra.managed_policy_role import ManagedPolicyRole
from moodle_infra.retention import log_retention

VPC_CIDR = "10.0.0.0/16"

PRIVATE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


class Network(Construct):
    """Two public subnets (NAT gateways only) and two private ones (everything else), over two AZs.

    The interface endpoints keep image pulls, logs and secrets off the NAT gateways; they cost money
    every hour in every AZ, so an environment can go without them (dev does).
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: NetworkConfig) -> None:
        super().__init__(scope, construct_id)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=config.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )

        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            retention=log_retention(config.flow_log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
            encryption_key=logs_key(self),
        )
        flow_log_role = ManagedPolicyRole(
            self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com")
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        for subnet in self.vpc.public_subnets:
            acknowledge(
                subnet.node.find_child("DefaultRoute"),
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "The public subnets hold only the NAT gateways, which need a default route to the internet "
                "gateway; every workload sits in the private subnets, whose routes lead to the NAT gateways.",
            )
        # restrict_default_security_group=True empties the VPC's default security group through CDK's own
        # custom resource provider, a Lambda that runs once per deployment.
        skip_checkov_on_provider(Stack.of(self), "Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler")

        if config.interface_endpoints:
            for name, service in (
                ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
                ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
                ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
                ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ):
                endpoint = self.vpc.add_interface_endpoint(
                    name, service=service, subnets=PRIVATE_SUBNETS, open=False
                )
                # The VPC's CIDR as a literal rather than the VPC's CidrBlock attribute, so that rule
                # checkers can read it: HTTPS from inside the VPC only.
                endpoint.connections.allow_default_port_from(ec2.Peer.ipv4(VPC_CIDR), "HTTPS from the VPC")
