"""The part of an environment that CloudFront requires in us-east-1: web ACL and viewer certificate."""

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct

from moodle_infra.config import EnvironmentConfig
from moodle_infra.domain import certificate, hosted_zone
from moodle_infra.waf import WebAcl

EDGE_REGION = "us-east-1"


class EdgeSecurityStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, cross_region_references=True, **kwargs)
        self.web_acl = WebAcl(
            self, "Waf", name=f"moodle-{config.name}", log_retention_days=config.log_retention_days
        ).web_acl
        domain = config.custom_domain
        self.certificate: acm.ICertificate | None = certificate(
            self,
            "ViewerCertificate",
            domain,
            zone=hosted_zone(self, domain),
            existing_arn=domain.cloudfront_certificate_arn if domain else None,
        )
