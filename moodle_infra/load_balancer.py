"""The internal ALB that only CloudFront's VPC origin can reach."""

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from moodle_infra.network import PRIVATE_SUBNETS

CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"


class LoadBalancer(Construct):
    """An ALB in the private subnets; its security group admits CloudFront's origin-facing ranges only.

    The managed prefix list has a different ID in every region, and looking it up at synth time
    would need AWS credentials, so it is resolved when the stack deploys.
    With a certificate the listener speaks HTTPS (TLS from CloudFront to the ALB), else HTTP inside
    the VPC: the default CloudFront domain cannot get a certificate of its own.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        certificate: acm.ICertificate | None,
        access_logs: s3.IBucket,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Moodle ALB: CloudFront VPC origin only",
            allow_all_outbound=False,
        )
        self.port = 443 if certificate else 80
        self.security_group.add_ingress_rule(
            ec2.Peer.prefix_list(self._cloudfront_prefix_list_id()),
            ec2.Port.tcp(self.port),
            "CloudFront origin-facing servers (VPC origin)",
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            internet_facing=False,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
            idle_timeout=Duration.seconds(120),
        )
        self.load_balancer.log_access_logs(access_logs, prefix="alb")
        self.listener = self.load_balancer.add_listener(
            "Listener",
            port=self.port,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP,
            certificates=[certificate] if certificate else None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if certificate else None,
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(
                404, content_type="text/plain", message_body="Not found"
            ),
        )

    def _cloudfront_prefix_list_id(self) -> str:
        lookup = cr.AwsCustomResource(
            self,
            "CloudFrontPrefixList",
            on_update=cr.AwsSdkCall(
                service="EC2",
                action="describeManagedPrefixLists",
                parameters={
                    "Filters": [
                        {"Name": "prefix-list-name", "Values": [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST]}
                    ]
                },
                physical_resource_id=cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST),
                output_paths=["PrefixLists.0.PrefixListId"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(
                resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE
            ),
            install_latest_aws_sdk=False,
        )
        return lookup.get_response_field("PrefixLists.0.PrefixListId")
