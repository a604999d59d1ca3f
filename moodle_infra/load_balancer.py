"""The internal ALB that only CloudFront's VPC origin can reach."""

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from compliance.acknowledgments import acknowledge, acknowledge_internal, skip_checkov
from compliance.cdk_internals import DEPLOY_TIME_LAMBDA_ACKNOWLEDGMENTS, skip_checkov_on_provider
from moodle_infra import timeouts
from moodle_infra.keys import logs_key
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
            idle_timeout=Duration.seconds(timeouts.ALB_IDLE_TIMEOUT),
        )
        self.load_balancer.log_access_logs(access_logs, prefix="alb")
        self.listener = self.load_balancer.add_listener(
            "Listener",
            port=self.port,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP,
            certificates=[certificate] if certificate else None,
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS if certificate else None,
            open=False,
            # No default action here: the web service's target group becomes it (WebService adds it).
        )
        self._acknowledge(certificate=certificate, deletion_protection=deletion_protection)

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
            log_group=logs.LogGroup(
                self,
                "CloudFrontPrefixListLogs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.DESTROY,
                encryption_key=logs_key(self),
            ),
        )
        policy = lookup.node.find_child("CustomResourcePolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeManagedPrefixLists, the only action of this policy, has no resource-level "
            "permissions",
        )
        acknowledge(
            policy,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's AwsCustomResource writes the permissions of its SDK call as this inline policy; it "
            "holds the one read-only action ec2:DescribeManagedPrefixLists",
        )
        # The SDK call runs in CDK's AwsCustomResource Lambda, a singleton of the stack.
        singleton = Stack.of(self)
        acknowledge_internal(
            singleton,
            AWS_CUSTOM_RESOURCE_FUNCTION,
            _BASIC_EXECUTION_ROLE,
            "CDK creates this Lambda and its role for every AwsCustomResource; AWS's basic execution "
            "policy only lets it write its own logs",
        )
        for rule, reason in DEPLOY_TIME_LAMBDA_ACKNOWLEDGMENTS.items():
            acknowledge_internal(singleton, AWS_CUSTOM_RESOURCE_FUNCTION, rule, reason)
        skip_checkov_on_provider(singleton, f"{AWS_CUSTOM_RESOURCE_FUNCTION}/Resource")
        return lookup.get_response_field("PrefixLists.0.PrefixListId")

    def _acknowledge(self, *, certificate: acm.ICertificate | None, deletion_protection: bool) -> None:
        acknowledge(
            self.load_balancer,
            "NIST.800.53.R5-ALBWAFEnabled",
            "The ALB is internal and admits only CloudFront's VPC origin; every request has passed the "
            "environment's WAF web ACL on the CloudFront distribution before it gets here",
        )
        if not deletion_protection:
            acknowledge(
                self.load_balancer,
                "NIST.800.53.R5-ELBDeletionProtectionEnabled",
                "This environment is disposable by configuration (deletion_protection is false); the "
                "load balancer holds no data, and staging and prod protect theirs",
            )
        if certificate is None:
            reason = (
                "Without a custom domain there is no name to issue a certificate for (CloudFront's own "
                "domain cannot have one at the origin), so CloudFront's VPC origin speaks HTTP to this "
                "internal listener inside the VPC; with a custom domain the listener is HTTPS-only"
            )
            for rule in (
                "NIST.800.53.R5-ALBHttpToHttpsRedirection",
                "NIST.800.53.R5-ELBv2ACMCertificateRequired",
            ):
                acknowledge(self.listener, rule, reason)
            for check in ("CKV_AWS_2", "CKV_AWS_103"):
                skip_checkov(self.listener, check, reason)


AWS_CUSTOM_RESOURCE_FUNCTION = "AWS679f53fac002430cb0da5b7982bd2287"
"""Construct ID of CDK's AwsCustomResource Lambda, a singleton below the stack."""

_BASIC_EXECUTION_ROLE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)
